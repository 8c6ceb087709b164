using System.Diagnostics;
using Microsoft.Extensions.Options;
using WxkfManager.Options;

namespace WxkfManager.Delivery;

/// <summary>Drains the delivery queue with a bounded number of deliveries in flight, logging each outcome.</summary>
public sealed class DeliveryWorker(
    DeliveryQueue queue,
    IServiceScopeFactory scopes,
    IOptions<DeliveryOptions> options,
    ILogger<DeliveryWorker> logger) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var consumers = Enumerable.Range(0, options.Value.Concurrency)
            .Select(_ => Task.Run(() => ConsumeAsync(stoppingToken), CancellationToken.None));
        return Task.WhenAll(consumers);
    }

    private async Task ConsumeAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var delivery in queue.Reader.ReadAllAsync(stoppingToken))
            {
                await DeliverAsync(delivery, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task DeliverAsync(PuppetDelivery delivery, CancellationToken stoppingToken)
    {
        using var scope = scopes.CreateScope();
        var client = scope.ServiceProvider.GetRequiredService<PuppetClient>();
        var started = Stopwatch.GetTimestamp();
        using var logScope = logger.BeginScope(new Dictionary<string, object> { ["DeliveryId"] = delivery.Id });
        DeliveryResult result;
        try
        {
            result = await client.DeliverAsync(delivery, stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            logger.LogWarning("Shutting down before {Kind} callback for {KfId} was delivered", delivery.Kind, delivery.KfId);
            return;
        }
        catch (Exception exception)
        {
            result = new DeliveryResult(false, null, exception.GetType().Name);
        }

        var elapsedMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        if (result.Delivered)
        {
            logger.LogInformation("Delivered {Kind} callback for {KfId} to {Endpoint} in {ElapsedMs:F0} ms (HTTP {StatusCode})",
                delivery.Kind, delivery.KfId, delivery.Endpoint, elapsedMs, result.StatusCode);
        }
        else
        {
            logger.LogWarning("Gave up delivering {Kind} callback for {KfId} to {Endpoint} after {ElapsedMs:F0} ms: {Reason}",
                delivery.Kind, delivery.KfId, delivery.Endpoint, elapsedMs, result.Error);
        }
    }
}
