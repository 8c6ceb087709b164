using System.Threading.RateLimiting;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using WxkfManager.Settings;
using WxkfManager.Apis;

namespace WxkfManager.Security;

public static class SecurityServiceCollectionExtensions
{
    public const string ManagementRateLimit = "management";

    public static IServiceCollection AddSecurity(this IServiceCollection services)
    {
        services.AddSingleton<SignatureFailureLimiter>();
        services.TryAddSingleton<IPuppetAddressResolver, DnsPuppetAddressResolver>();
        services.AddSingleton<PuppetConnectPolicy>();
        services.AddSingleton<RecentCallbacks>();
        services.AddRateLimiter(limiter =>
        {
            limiter.AddPolicy(ManagementRateLimit, context =>
            {
                var perMinute = context.RequestServices.GetRequiredService<IOptionsMonitor<SecurityOptions>>().CurrentValue.ManagementRequestsPerMinute;
                return RateLimitPartition.GetFixedWindowLimiter(
                    context.Connection.RemoteIpAddress?.ToString() ?? "unknown",
                    _ => new FixedWindowRateLimiterOptions { PermitLimit = perMinute, Window = TimeSpan.FromMinutes(1), QueueLimit = 0 });
            });
            limiter.OnRejected = async (context, cancellationToken) =>
            {
                context.HttpContext.Response.StatusCode = StatusCodes.Status429TooManyRequests;
                context.HttpContext.Response.Headers.RetryAfter = "60";
                await context.HttpContext.Response.WriteAsJsonAsync(
                    new ManagerResponse(StatusCodes.Status429TooManyRequests, "too many management requests from this address; retry in a minute"),
                    cancellationToken);
            };
        });
        return services;
    }

    /// <summary>Says loudly, at start-up, what is open or stored in clear: one line per setting, naming it.</summary>
    public static WebApplication WarnIfManagementIsOpen(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<IOptions<SecurityOptions>>().Value;
        foreach (var warning in SecurityWarnings.For(options))
        {
            app.Logger.LogWarning("{SecurityWarning}. Set it in production.", warning);
        }
        return app;
    }
}
