using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Http.HttpResults;
using WxkfManager.Security;

namespace WxkfManager.OperatorConsole;

/// <summary>
/// Console sessions: the operator key is checked once at sign-in, and the browser keeps only a data-protected,
/// HttpOnly, SameSite=Strict cookie (Secure over HTTPS). The key never reaches the browser's storage.
/// </summary>
public static class ConsoleAuthentication
{
    public const string Scheme = "WxkfConsole";
    public const string CookieName = "wxkf_console";
    public const string KeyFingerprintClaim = "wxkf:key";

    /// <summary>Unsafe console API calls must carry this header: a cross-site form cannot set it (defence beside SameSite).</summary>
    public const string RequestHeader = "X-Wxkf-Console";

    public static IServiceCollection AddConsoleAuthentication(this IServiceCollection services)
    {
        // A lone scheme would become the default, and the authentication middleware would then run the cookie handler on
        // every request, callbacks included (a handler, a logger and a cookie read each). The console asks for its scheme
        // by name (CheckAsync), so nothing needs a default.
        AppContext.SetSwitch("Microsoft.AspNetCore.Authentication.SuppressAutoDefaultScheme", true);
        services.AddAuthentication().AddCookie(Scheme, options =>
        {
            options.Cookie.Name = CookieName;
            options.Cookie.Path = ConsoleEndpoints.Prefix;
            options.Cookie.HttpOnly = true;
            options.Cookie.SameSite = SameSiteMode.Strict;
            options.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            options.ExpireTimeSpan = TimeSpan.FromHours(8);
            options.SlidingExpiration = true;
            options.Events.OnValidatePrincipal = context =>
            {
                var key = context.HttpContext.RequestServices.GetRequiredService<OperatorKey>();
                if (context.Principal?.FindFirstValue(KeyFingerprintClaim) != key.Fingerprint)
                {
                    context.RejectPrincipal();
                }
                return Task.CompletedTask;
            };
        });
        return services;
    }

    public enum Access
    {
        Allowed,
        WrongNetwork,
        SignInRequired,
    }

    /// <summary>Network first (as /operator), then the session cookie; open when no operator key is configured.</summary>
    public static async Task<Access> CheckAsync(HttpContext http)
    {
        var key = http.RequestServices.GetRequiredService<OperatorKey>();
        if (!ManagementAccess.IsAllowedNetwork(http.Connection.RemoteIpAddress, key.AllowedNetworks))
        {
            return Access.WrongNetwork;
        }
        if (!key.IsConfigured)
        {
            return Access.Allowed;
        }
        var result = await http.AuthenticateAsync(Scheme);
        return result.Succeeded ? Access.Allowed : Access.SignInRequired;
    }

    /// <summary>For the console's JSON API: 403, 401, or a missing anti-forgery header on a write.</summary>
    public static TBuilder RequireConsoleSession<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder
    {
        builder.AddEndpointFilter(async (context, next) =>
        {
            var http = context.HttpContext;
            switch (await CheckAsync(http))
            {
                case Access.WrongNetwork:
                    return TypedResults.Problem(detail: "this address may not use the operator console", statusCode: StatusCodes.Status403Forbidden);
                case Access.SignInRequired:
                    return TypedResults.Problem(detail: "sign in to the console first", statusCode: StatusCodes.Status401Unauthorized);
            }
            if (!HttpMethods.IsGet(http.Request.Method) && !HttpMethods.IsHead(http.Request.Method)
                && !http.Request.Headers.ContainsKey(RequestHeader))
            {
                return TypedResults.Problem(detail: $"console writes need the {RequestHeader} header", statusCode: StatusCodes.Status400BadRequest);
            }
            return await next(context);
        });
        return builder;
    }

    public static async Task<Results<ProblemHttpResult, RedirectHttpResult>> SignInAsync(HttpContext http, OperatorKey key, ILoggerFactory loggers)
    {
        var logger = loggers.CreateLogger(typeof(ConsoleAuthentication));
        if (!ManagementAccess.IsAllowedNetwork(http.Connection.RemoteIpAddress, key.AllowedNetworks))
        {
            return TypedResults.Problem(detail: "this address may not use the operator console", statusCode: StatusCodes.Status403Forbidden);
        }
        if (!key.IsConfigured)
        {
            return TypedResults.Redirect(ConsoleEndpoints.Prefix + "/fleet");
        }
        var form = http.Request.HasFormContentType ? await http.Request.ReadFormAsync(http.RequestAborted) : null;
        if (!key.Matches(form?["key"].ToString()))
        {
            logger.LogWarning("Console sign-in refused for {RemoteAddress}: wrong operator key", http.Connection.RemoteIpAddress);
            return TypedResults.Redirect(ConsoleEndpoints.Prefix + "/login?failed=1");
        }
        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, "operator"), new Claim(KeyFingerprintClaim, key.Fingerprint)], Scheme);
        await http.SignInAsync(Scheme, new ClaimsPrincipal(identity));
        logger.LogInformation("Console sign-in for {RemoteAddress}", http.Connection.RemoteIpAddress);
        return TypedResults.Redirect(ConsoleEndpoints.Prefix + "/fleet");
    }

    public static async Task<RedirectHttpResult> SignOutAsync(HttpContext http)
    {
        await http.SignOutAsync(Scheme);
        return TypedResults.Redirect(ConsoleEndpoints.Prefix + "/login");
    }
}
