using Prometheus;
using WxkfManager.Delivery;
using WxkfManager.Registry;
using WxkfManager.Security;

namespace WxkfManager.Metrics;

public static class MetricsEndpoint
{
    /// <summary>
    /// /metrics in Prometheus text format, behind the operator key like the operator endpoints
    /// (Prometheus sends it with <c>authorization: { credentials: OPERATOR_KEY }</c>).
    /// </summary>
    /// <summary>HTTP request metrics by route pattern (not raw path: each corp and kf id would make a series), method and status.</summary>
    public static WebApplication UseManagerHttpMetrics(this WebApplication app)
    {
        ManagerMetrics.EnsureInitialized();
        app.UseHttpMetrics();
        return app;
    }

    public static IEndpointRouteBuilder MapManagerMetrics(this IEndpointRouteBuilder app)
    {
        Prometheus.Metrics.DefaultRegistry.AddBeforeCollectCallback(async cancellationToken =>
        {
            var services = app.ServiceProvider;
            try
            {
                var directory = services.GetRequiredService<PuppetDirectory>();
                ManagerMetrics.Puppets.WithLabels("registered").Set(directory.Count);
                ManagerMetrics.Puppets.WithLabels("online").Set(directory.OnlineCount);
                ManagerMetrics.Puppets.WithLabels("unloadable").Set(directory.Unloadable.Count);
                var stats = await services.GetRequiredService<IDeliveryStore>().GetStatsAsync(DateTime.UtcNow, cancellationToken);
                ManagerMetrics.QueueDepth.WithLabels("pending").Set(stats.Pending);
                ManagerMetrics.QueueDepth.WithLabels("in_flight").Set(stats.Leased);
                ManagerMetrics.DeadLetters.Set(stats.Dead);
            }
            catch (Exception exception) when (Apis.StoreFailure.IsStoreFailure(exception) || exception is ObjectDisposedException)
            {
                // The store's health is /ready's business; the other metrics still get scraped.
            }
        });
        app.MapMetrics("/metrics")
            .RequireOperatorAccess()
            .WithTags("Operator");
        return app;
    }
}
