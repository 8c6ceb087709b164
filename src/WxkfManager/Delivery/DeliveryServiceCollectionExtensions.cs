using System.Net;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Timeout;
using WxkfManager.Options;

namespace WxkfManager.Delivery;

public static class DeliveryServiceCollectionExtensions
{
    public const string PipelineName = "puppet-delivery";

    public static IServiceCollection AddPuppetDelivery(this IServiceCollection services)
    {
        services.AddSingleton<DeliveryQueue>();
        services.AddHostedService<DeliveryWorker>();
        services.AddHttpClient<PuppetClient>(client => client.Timeout = Timeout.InfiniteTimeSpan)
            .AddResilienceHandler(PipelineName, static (pipeline, context) =>
            {
                var options = context.ServiceProvider.GetRequiredService<IOptions<DeliveryOptions>>().Value;
                var logger = context.ServiceProvider.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(PuppetClient));
                pipeline
                    .AddRetry(new HttpRetryStrategyOptions
                    {
                        MaxRetryAttempts = options.MaxRetries,
                        BackoffType = DelayBackoffType.Exponential,
                        UseJitter = true,
                        Delay = options.RetryBaseDelay,
                        ShouldHandle = static args => ValueTask.FromResult(IsTransient(args.Outcome)),
                        OnRetry = args =>
                        {
                            logger.LogWarning("Delivery to {Endpoint} failed ({Reason}); retry {Attempt} in {RetryDelayMs:F0} ms",
                                args.Outcome.Result?.RequestMessage?.RequestUri?.GetLeftPart(UriPartial.Path) ?? "puppet",
                                Describe(args.Outcome), args.AttemptNumber + 1, args.RetryDelay.TotalMilliseconds);
                            return ValueTask.CompletedTask;
                        },
                    })
                    .AddTimeout(options.AttemptTimeout);
            });
        return services;
    }

    internal static bool IsTransient(Outcome<HttpResponseMessage> outcome) => outcome switch
    {
        { Exception: HttpRequestException or TimeoutRejectedException } => true,
        { Result.StatusCode: >= HttpStatusCode.InternalServerError } => true,
        _ => false,
    };

    private static string Describe(Outcome<HttpResponseMessage> outcome) =>
        outcome.Exception is { } exception
            ? exception is HttpRequestException http ? $"connection failed: {http.HttpRequestError}" : "timed out"
            : $"HTTP {(int)outcome.Result!.StatusCode}";
}
