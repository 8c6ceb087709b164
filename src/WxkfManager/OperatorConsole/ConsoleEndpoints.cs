using Microsoft.AspNetCore.Http.HttpResults;
using WxkfManager.Delivery;
using WxkfManager.Registry;
using WxkfManager.Security;

namespace WxkfManager.OperatorConsole;

/// <summary>The operator console: sign-in, four pages (one shell, picked by path), their assets and their JSON.</summary>
public static class ConsoleEndpoints
{
    public const string Prefix = "/console";
    public static readonly string[] Pages = ["fleet", "queue", "live", "tokens"];

    public static IServiceCollection AddOperatorConsole(this IServiceCollection services)
    {
        services.AddOptions<ConsoleOptions>().BindConfiguration(ConsoleOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddConsoleAuthentication();
        services.AddSingleton<OperatorKey>();
        services.AddSingleton<ConsoleAssets>();
        services.AddSingleton<LiveSamples>();
        services.AddSingleton<LiveCounters>();
        services.AddHostedService<LiveSampler>();
        services.AddSingleton<TestEventSimulator>();
        return services;
    }

    public static IEndpointRouteBuilder MapOperatorConsole(this IEndpointRouteBuilder app)
    {
        var console = app.MapGroup(Prefix).ExcludeFromDescription();
        console.MapGet("/", () => TypedResults.Redirect(Prefix + "/fleet"));
        console.MapGet("/{page:regex(^(fleet|queue|live|tokens)$)}", ServePage);
        console.MapGet("/login", ServeLogin);
        console.MapPost("/login", ConsoleAuthentication.SignInAsync)
            .RequireRateLimiting(SecurityServiceCollectionExtensions.ManagementRateLimit);
        console.MapPost("/logout", (Delegate)ConsoleAuthentication.SignOutAsync);
        console.MapGet("/assets/{name}", (string name, HttpContext http, ConsoleAssets assets) =>
            name.EndsWith(".html", StringComparison.Ordinal) ? TypedResults.NotFound() : assets.Serve(http, name));
        return app;
    }

    private static async Task<Results<ProblemHttpResult, RedirectHttpResult, Results<FileContentHttpResult, NotFound, StatusCodeHttpResult>>> ServePage(
        HttpContext http, ConsoleAssets assets) =>
        await ConsoleAuthentication.CheckAsync(http) switch
        {
            ConsoleAuthentication.Access.WrongNetwork => TypedResults.Problem(detail: "this address may not use the operator console", statusCode: StatusCodes.Status403Forbidden),
            ConsoleAuthentication.Access.SignInRequired => TypedResults.Redirect(Prefix + "/login"),
            _ => assets.Serve(http, "index.html"),
        };

    private static Results<RedirectHttpResult, Results<FileContentHttpResult, NotFound, StatusCodeHttpResult>> ServeLogin(
        HttpContext http, ConsoleAssets assets, OperatorKey key) =>
        key.IsConfigured ? assets.Serve(http, "login.html") : TypedResults.Redirect(Prefix + "/fleet");
}
