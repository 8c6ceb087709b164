using System.Diagnostics;
using Microsoft.Extensions.Options;
using WxkfManager.Metrics;
using WxkfManager.Options;
using WxkfManager.Registry;

namespace WxkfManager.Delivery;

/// <summary>
/// Leases due events from the durable queue and delivers them, a bounded number at a time. A failed
/// attempt is rescheduled with backoff until the event's age limit, then dead-lettered with its last error.
/// On shutdown it stops claiming, lets in-flight deliveries finish for a grace period, and requeues the rest.
/// </summary>
public sealed class DeliveryWorker(
    IDeliveryStore store,
    PuppetDirectory directory,
    DeliverySignal signal,
    DeliveryTracker tracker,
    IServiceScopeFactory scopes,
    TimeProvider time,
    IOptions<DeliveryOptions> options,
    ILogger<DeliveryWorker> logger) : BackgroundService
{
    private static readonly TimeSpan HousekeepingInterval = TimeSpan.FromMinutes(1);

    private readonly string _owner = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid().ToString("N")[..8]}";
    private readonly DeliveryOptions _options = options.Value;
    private readonly CancellationTokenSource _inFlightAbort = new();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var slots = new SemaphoreSlim(_options.Concurrency);
        var inFlight = new HashSet<Task>();
        var lastHousekeeping = time.GetTimestamp();
        logger.LogInformation("Delivery worker {Owner} started", _owner);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                inFlight.RemoveWhere(t => t.IsCompleted);
                // Wait for a free slot rather than the next poll: a busy worker picks up work as soon as it can take it.
                await slots.WaitAsync(stoppingToken);
                slots.Release();
                var free = slots.CurrentCount;
                var claimed = await store.ClaimDueAsync(_owner, free, time.GetUtcNow().UtcDateTime, _options.LeaseDuration, stoppingToken);
                foreach (var record in claimed)
                {
                    await slots.WaitAsync(CancellationToken.None);
                    inFlight.Add(DeliverAndReleaseAsync(record, slots));
                }
                if (time.GetElapsedTime(lastHousekeeping) > HousekeepingInterval)
                {
                    lastHousekeeping = time.GetTimestamp();
                    await PurgeAsync(stoppingToken);
                }
                // A full batch means more may be due: look again at once.
                if (claimed.Count < free)
                {
                    await signal.WaitAsync(_options.PollInterval, stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
            }
            catch (Exception exception)
            {
                logger.LogError(exception, "Claiming deliveries failed; retrying after {PollInterval}", _options.PollInterval);
                await Task.Delay(_options.PollInterval, time, CancellationToken.None);
            }
        }
        await DrainAsync(inFlight);
    }

    private async Task DrainAsync(HashSet<Task> inFlight)
    {
        inFlight.RemoveWhere(t => t.IsCompleted);
        if (inFlight.Count == 0)
        {
            return;
        }
        logger.LogInformation("Shutting down: waiting up to {ShutdownGrace} for {InFlight} in-flight deliveries", _options.ShutdownGrace, inFlight.Count);
        var all = Task.WhenAll(inFlight);
        if (await Task.WhenAny(all, Task.Delay(_options.ShutdownGrace, time)) != all)
        {
            _inFlightAbort.Cancel();
            await all;
        }
    }

    private async Task DeliverAndReleaseAsync(DeliveryRecord record, SemaphoreSlim slots)
    {
        try
        {
            await Task.Yield();
            await DeliverAsync(record);
        }
        catch (Exception exception)
        {
            // The lease expires and another attempt follows; nothing is lost.
            logger.LogError(exception, "Delivery {DeliveryId} for {KfId} failed unexpectedly", record.Id, record.KfId);
        }
        finally
        {
            slots.Release();
        }
    }

    private async Task DeliverAsync(DeliveryRecord record)
    {
        using var scope = logger.BeginScope(new Dictionary<string, object> { ["CorrelationId"] = record.Id, ["KfId"] = record.KfId });
        var puppet = await directory.FindInCorpAsync(record.CorpId, record.KfId, CancellationToken.None);
        var now = time.GetUtcNow().UtcDateTime;
        if (puppet is null || !puppet.Online)
        {
            var reason = puppet is null ? "puppet is not registered" : "puppet is deregistered";
            await store.DeadLetterAsync(record.Id, _owner, record.Attempts, reason, now, CancellationToken.None);
            ManagerMetrics.Deliveries.WithLabels("dead_lettered").Inc();
            logger.LogWarning("Dead-lettered {Kind} callback for {KfId}: {Reason}", record.Kind, record.KfId, reason);
            return;
        }

        var started = Stopwatch.GetTimestamp();
        DeliveryResult result;
        using (var client = scopes.CreateScope())
        {
            try
            {
                result = await client.ServiceProvider.GetRequiredService<PuppetClient>()
                    .DeliverAsync(record.ToDelivery(puppet.Endpoint), _inFlightAbort.Token);
            }
            catch (OperationCanceledException) when (_inFlightAbort.IsCancellationRequested)
            {
                await store.RescheduleAsync(record.Id, _owner, record.Attempts, time.GetUtcNow().UtcDateTime, "interrupted by shutdown", CancellationToken.None);
                logger.LogWarning("Shutdown interrupted delivery for {KfId}; it stays queued", record.KfId);
                return;
            }
        }

        now = time.GetUtcNow().UtcDateTime;
        var attempts = record.Attempts + 1;
        var elapsedMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        if (result.Delivered)
        {
            await store.MarkDeliveredAsync(record.Id, _owner, attempts, now, CancellationToken.None);
            tracker.Succeeded(record.KfId, now);
            ManagerMetrics.Deliveries.WithLabels("delivered").Inc();
            ManagerMetrics.ObserveDeliveryLatency(record, now, _options.MaxAge);
            logger.LogInformation("Delivered {Kind} callback for {KfId} to {Endpoint} in {ElapsedMs:F0} ms (HTTP {StatusCode}, attempt {Attempt}, {AgeMs:F0} ms after receipt)",
                record.Kind, record.KfId, puppet.Endpoint, elapsedMs, result.StatusCode, attempts, (now - record.ReceivedAt).TotalMilliseconds);
            return;
        }

        // An open circuit is not an attempt at the puppet: keep the count and the error that opened it.
        var error = result.Error!;
        TimeSpan delay;
        if (result.CircuitOpen)
        {
            attempts = record.Attempts;
            error = record.LastError ?? (tracker.OpenedBecause(puppet.Endpoint) is { } cause ? $"circuit open after {cause}" : error);
            delay = _options.CircuitBreakDuration;
        }
        else
        {
            delay = RetrySchedule.DelayAfter(attempts, _options.RetryBaseDelay, _options.MaxRetryDelay, Random.Shared.NextDouble());
        }
        tracker.Failed(record.KfId, now, error);
        var next = now + delay;
        if (next > record.ExpiresAt)
        {
            var reason = $"gave up after {attempts} attempts over {(now - record.ReceivedAt).TotalSeconds:F0} s: {error}";
            await store.DeadLetterAsync(record.Id, _owner, attempts, reason, now, CancellationToken.None);
            ManagerMetrics.Deliveries.WithLabels("dead_lettered").Inc();
            logger.LogError("Dead-lettered {Kind} callback for {KfId} at {Endpoint}: {Reason}", record.Kind, record.KfId, puppet.Endpoint, reason);
            return;
        }
        await store.RescheduleAsync(record.Id, _owner, attempts, next, error, CancellationToken.None);
        ManagerMetrics.Deliveries.WithLabels(result.CircuitOpen ? "circuit_open" : "retry").Inc();
        logger.LogWarning("Delivery of {Kind} callback for {KfId} to {Endpoint} failed ({Reason}); attempt {Attempt} in {RetryDelayMs:F0} ms",
            record.Kind, record.KfId, puppet.Endpoint, result.Error, attempts + 1, delay.TotalMilliseconds);
    }

    private async Task PurgeAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var purged = await store.PurgeAsync(now - _options.DeliveredRetention, now - _options.DeadLetterRetention, cancellationToken);
        if (purged > 0)
        {
            logger.LogInformation("Purged {Purged} finished deliveries past retention", purged);
        }
    }

    public override void Dispose()
    {
        _inFlightAbort.Dispose();
        base.Dispose();
    }
}
