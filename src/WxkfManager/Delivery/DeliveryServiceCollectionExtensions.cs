using System.Net;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Polly;
using Polly.CircuitBreaker;
using Polly.Timeout;
using WxkfManager.Options;

namespace WxkfManager.Delivery;

public static class DeliveryServiceCollectionExtensions
{
    public const string PipelineName = "puppet-delivery";

    public static IServiceCollection AddPuppetDelivery(this IServiceCollection services)
    {
        services.AddSingleton<DeliverySignal>();
        services.AddSingleton<DeliveryTracker>();
        services.AddHostedService<DeliveryWorker>();
        services.AddHttpClient<PuppetClient>(client => client.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(Security.PuppetHttpHandler.Create)
            .AddResilienceHandler(PipelineName, static (pipeline, context) =>
            {
                var options = context.ServiceProvider.GetRequiredService<IOptions<DeliveryOptions>>().Value;
                var tracker = context.ServiceProvider.GetRequiredService<DeliveryTracker>();
                var logger = context.ServiceProvider.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(PuppetClient));
                // One pipeline per puppet endpoint, so each puppet has its own circuit.
                var endpoint = context.InstanceName;
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
                                endpoint, Describe(args.Outcome), args.AttemptNumber + 1, args.RetryDelay.TotalMilliseconds);
                            return ValueTask.CompletedTask;
                        },
                    })
                    .AddCircuitBreaker(new HttpCircuitBreakerStrategyOptions
                    {
                        FailureRatio = 1.0,
                        MinimumThroughput = options.CircuitBreakerMinimumThroughput,
                        SamplingDuration = TimeSpan.FromSeconds(30),
                        BreakDuration = options.CircuitBreakDuration,
                        ShouldHandle = static args => ValueTask.FromResult(IsTransient(args.Outcome)),
                        OnOpened = args =>
                        {
                            tracker.CircuitChanged(endpoint, CircuitStates.Open, Describe(args.Outcome));
                            logger.LogWarning("Circuit to {Endpoint} opened for {BreakDurationMs:F0} ms", endpoint, args.BreakDuration.TotalMilliseconds);
                            return ValueTask.CompletedTask;
                        },
                        OnHalfOpened = _ =>
                        {
                            tracker.CircuitChanged(endpoint, CircuitStates.HalfOpen);
                            return ValueTask.CompletedTask;
                        },
                        OnClosed = _ =>
                        {
                            tracker.CircuitChanged(endpoint, CircuitStates.Closed);
                            logger.LogInformation("Circuit to {Endpoint} closed", endpoint);
                            return ValueTask.CompletedTask;
                        },
                    })
                    .AddTimeout(options.AttemptTimeout);
            })
            .SelectPipelineBy(static _ => PuppetClient.EndpointOf);
        return services;
    }

    internal static bool IsTransient(Outcome<HttpResponseMessage> outcome) => outcome switch
    {
        { Exception: HttpRequestException or TimeoutRejectedException } => true,
        { Result.StatusCode: >= HttpStatusCode.InternalServerError } => true,
        _ => false,
    };

    private static string Describe(Outcome<HttpResponseMessage> outcome) => outcome.Exception switch
    {
        HttpRequestException http => $"connection failed: {http.HttpRequestError}",
        TimeoutRejectedException => "timed out",
        BrokenCircuitException => "circuit open",
        { } other => other.GetType().Name,
        null => $"HTTP {(int)outcome.Result!.StatusCode}",
    };
}
