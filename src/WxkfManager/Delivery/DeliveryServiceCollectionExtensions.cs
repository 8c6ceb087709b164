using Microsoft.Extensions.Options;
using WxkfManager.Settings;

namespace WxkfManager.Delivery;

public static class DeliveryServiceCollectionExtensions
{
    public static IServiceCollection AddPuppetDelivery(this IServiceCollection services)
    {
        services.AddSingleton<DeliverySignal>();
        services.AddSingleton<DeliveryTracker>();
        services.AddSingleton<DeliveryAttempt>();
        services.AddSingleton<DeliveryDispatcher>();
        services.AddSingleton<QueueDepths>();
        services.AddHostedService<DeliveryWorker>();
        // One attempt per call: the queue decides about the next one (RetryPolicy), so no resilience handler here.
        services.AddHttpClient<PuppetClient>(client => client.Timeout = Timeout.InfiniteTimeSpan)
            // DeliveryAttempt writes one line per attempt; the factory's own per-request lines and scopes would only cost.
            .RemoveAllLoggers()
            .ConfigurePrimaryHttpMessageHandler(provider =>
            {
                var handler = Security.PuppetHttpHandler.Create(provider);
                var options = provider.GetRequiredService<IOptions<DeliveryOptions>>().Value;
                handler.ConnectTimeout = options.ConnectTimeout < options.AttemptTimeout ? options.ConnectTimeout : options.AttemptTimeout;
                return handler;
            });
        return services;
    }
}
