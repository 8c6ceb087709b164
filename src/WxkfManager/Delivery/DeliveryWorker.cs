using Microsoft.Extensions.Options;
using WxkfManager.Options;

namespace WxkfManager.Delivery;

/// <summary>
/// Leases due events from the durable queue and hands each to <see cref="DeliveryAttempt"/>, a bounded number
/// at a time. Events of unreachable puppets are not leased: each such puppet gets one probe at a time, when
/// its health says so. On shutdown it stops claiming, lets in-flight deliveries finish for a grace period,
/// and requeues the rest.
/// </summary>
public sealed class DeliveryWorker(
    IDeliveryStore store,
    DeliveryAttempt attempt,
    DeliverySignal signal,
    DeliveryTracker tracker,
    TimeProvider time,
    IOptions<DeliveryOptions> options,
    ILogger<DeliveryWorker> logger) : BackgroundService
{
    private static readonly TimeSpan HousekeepingInterval = TimeSpan.FromMinutes(1);

    private readonly DeliveryOptions _options = options.Value;
    private readonly CancellationTokenSource _inFlightAbort = new();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var slots = new SemaphoreSlim(_options.Concurrency);
        var inFlight = new HashSet<Task>();
        var lastHousekeeping = time.GetTimestamp();
        logger.LogInformation("Delivery worker {Owner} started", attempt.Owner);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                inFlight.RemoveWhere(t => t.IsCompleted);
                // Wait for a free slot rather than the next poll: a busy worker picks up work as soon as it can take it.
                await slots.WaitAsync(stoppingToken);
                slots.Release();
                var free = slots.CurrentCount;
                var now = time.GetUtcNow().UtcDateTime;
                var started = 0;
                foreach (var kfId in tracker.ProbesDue(now))
                {
                    if (started >= free)
                    {
                        break;
                    }
                    if (await ClaimProbeAsync(kfId, now, stoppingToken) is { } probe)
                    {
                        await slots.WaitAsync(CancellationToken.None);
                        inFlight.Add(DeliverAndReleaseAsync(probe, isProbe: true, slots));
                        started++;
                    }
                }
                var claimed = await store.ClaimDueAsync(attempt.Owner, free - started, now, _options.LeaseDuration, tracker.Waiting(now), stoppingToken);
                foreach (var record in claimed)
                {
                    await slots.WaitAsync(CancellationToken.None);
                    inFlight.Add(DeliverAndReleaseAsync(record, isProbe: false, slots));
                }
                if (time.GetElapsedTime(lastHousekeeping) > HousekeepingInterval)
                {
                    lastHousekeeping = time.GetTimestamp();
                    await PurgeAsync(stoppingToken);
                }
                // A full batch means more may be due: look again at once.
                if (started + claimed.Count < free)
                {
                    await signal.WaitAsync(UntilNextLook(now), stoppingToken);
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

    private async Task<DeliveryRecord?> ClaimProbeAsync(string kfId, DateTime now, CancellationToken cancellationToken)
    {
        if (!tracker.TryBeginProbe(kfId, now))
        {
            return null;
        }
        try
        {
            var record = await store.ClaimOldestForPuppetAsync(attempt.Owner, kfId, now, _options.LeaseDuration, cancellationToken);
            if (record is null)
            {
                tracker.EndProbe(kfId, now);
            }
            return record;
        }
        catch
        {
            tracker.EndProbe(kfId, now);
            throw;
        }
    }

    /// <summary>The poll interval, or sooner when a puppet's probe or hold falls due before it.</summary>
    private TimeSpan UntilNextLook(DateTime now)
    {
        var wait = _options.PollInterval;
        if (tracker.NextWakeAt(now) is { } probe && probe - now < wait)
        {
            wait = probe > now ? probe - now : TimeSpan.FromMilliseconds(1);
        }
        return wait;
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

    private async Task DeliverAndReleaseAsync(DeliveryRecord record, bool isProbe, SemaphoreSlim slots)
    {
        try
        {
            await Task.Yield();
            await attempt.RunAsync(record, isProbe, _inFlightAbort.Token);
        }
        catch (Exception exception)
        {
            // The lease expires and another attempt follows; nothing is lost.
            logger.LogError(exception, "Delivery {DeliveryId} for {KfId} failed unexpectedly", record.Id, record.KfId);
        }
        finally
        {
            if (isProbe)
            {
                tracker.EndProbe(record.KfId, time.GetUtcNow().UtcDateTime);
            }
            slots.Release();
        }
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
