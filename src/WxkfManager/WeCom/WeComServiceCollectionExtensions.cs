using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Telemetry;
using Polly.Timeout;
using WxkfManager.Settings;

namespace WxkfManager.WeCom;

public static class WeComServiceCollectionExtensions
{
    /// <summary>
    /// The client for WeCom and the token service, with retries only where they are safe: a connection that
    /// failed before anything was sent, for any call, and timeouts or 5xx for GETs, which change nothing.
    /// </summary>
    public static IServiceCollection AddWeComClient(this IServiceCollection services)
    {
        // Each retry is an expected event of a working pipeline: Debug, not a Warning with a stack trace per attempt.
        services.Configure<TelemetryOptions>(options => options.SeverityProvider = static _ => ResilienceEventSeverity.Debug);
        services.AddHttpClient<WeComClient>((sp, client) =>
                client.Timeout = sp.GetRequiredService<IOptions<WeComOptions>>().Value.Timeout + TimeSpan.FromSeconds(5))
            // The proxy passes WeCom's answer back as it is; it never follows a redirect somewhere else.
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false })
            .AddResilienceHandler("wecom", static (pipeline, context) =>
            {
                var timeout = context.ServiceProvider.GetRequiredService<IOptions<WeComOptions>>().Value.Timeout;
                pipeline
                    .AddRetry(new HttpRetryStrategyOptions
                    {
                        MaxRetryAttempts = 2,
                        BackoffType = DelayBackoffType.Exponential,
                        UseJitter = true,
                        Delay = TimeSpan.FromMilliseconds(200),
                        ShouldHandle = static args => ValueTask.FromResult(IsSafeToRetry(args.Outcome, args.Context)),
                    })
                    .AddTimeout(timeout);
            });
        return services;
    }

    internal static bool IsSafeToRetry(Outcome<HttpResponseMessage> outcome, ResilienceContext context)
    {
        if (outcome.Exception is HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError })
        {
            return true;
        }
        var isGet = context.GetRequestMessage()?.Method == HttpMethod.Get;
        return isGet && outcome switch
        {
            { Exception: HttpRequestException or TimeoutRejectedException } => true,
            { Result.StatusCode: >= System.Net.HttpStatusCode.InternalServerError } => true,
            _ => false,
        };
    }
}
