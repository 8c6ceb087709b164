using Microsoft.Extensions.Options;
using WxkfManager.Options;

namespace WxkfManager.Delivery;

public static class DeliveryServiceCollectionExtensions
{
    public static IServiceCollection AddPuppetDelivery(this IServiceCollection services)
    {
        services.AddSingleton<DeliverySignal>();
        services.AddSingleton<DeliveryTracker>();
        services.AddSingleton<DeliveryAttempt>();
        services.AddHostedService<DeliveryWorker>();
        // One attempt per call: the queue decides about the next one (RetryPolicy), so no resilience handler here.
        services.AddHttpClient<PuppetClient>(client => client.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(provider =>
            {
                var handler = Security.PuppetHttpHandler.Create(provider);
                handler.ConnectTimeout = provider.GetRequiredService<IOptions<DeliveryOptions>>().Value.ConnectTimeout;
                return handler;
            });
        return services;
    }
}
