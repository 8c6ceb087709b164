using Microsoft.Extensions.Options;
using WxkfManager.Settings;

namespace WxkfManager.Delivery;

/// <summary>
/// Reads back from the store what memory does not hold: leftovers of a crash or restart, retries once due, other
/// replicas' expired leases, events that waited for their puppet. Fresh events reach <see cref="DeliveryDispatcher"/>
/// from intake directly. Unreachable puppets get one probe at a time, when their health says so. On shutdown it
/// stops claiming, hands events not yet started back to the store, and lets in-flight deliveries finish for a grace period.
/// </summary>
public sealed class DeliveryWorker(
    IDeliveryStore store,
    DeliveryAttempt attempt,
    DeliveryDispatcher dispatcher,
    QueueDepths depths,
    DeliverySignal signal,
    DeliveryTracker tracker,
    TimeProvider time,
    IOptions<DeliveryOptions> options,
    ILogger<DeliveryWorker> logger) : BackgroundService
{
    private static readonly TimeSpan HousekeepingInterval = TimeSpan.FromMinutes(1);

    // Claimed per look, so one puppet's backlog read back from the store does not crowd memory at once.
    private const int ClaimBatch = 64;

    private readonly DeliveryOptions _options = options.Value;
    private readonly CancellationTokenSource _inFlightAbort = new();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        dispatcher.Start(DeliverAsync);
        logger.LogInformation("Delivery worker {Owner} started", attempt.Owner);
        await WakePutOffAsync(stoppingToken);
        await HousekeepingAsync(stoppingToken);
        var lastHousekeeping = time.GetTimestamp();
        // The store is read for due events only when something may have made one due: a wake-up, a retry or the end
        // of a hold falling due, a full batch, or the poll interval (crash leftovers, other replicas' leases). A
        // wake-up for a probe alone does not read it: with many broken puppets that was a scan of their stored
        // backlog at every probe, on the writer that commits the callbacks.
        var mustClaim = true;
        var claimBy = DateTime.MinValue;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var now = time.GetUtcNow().UtcDateTime;
                await RenewHeldLeasesAsync(now);
                await StartProbesAsync(now, stoppingToken);
                var room = Math.Min(dispatcher.RoomForClaims, ClaimBatch);
                var claimed = 0;
                if (room > 0 && (mustClaim || now >= claimBy))
                {
                    await PutOffUnreachableAsync(now, stoppingToken);
                    var records = await store.ClaimDueAsync(attempt.Owner, room, now, _options.LeaseDuration, NotToClaim(now), stoppingToken);
                    dispatcher.Add(records);
                    claimed = records.Count;
                    claimBy = now + _options.PollInterval;
                }
                if (time.GetElapsedTime(lastHousekeeping) > HousekeepingInterval)
                {
                    lastHousekeeping = time.GetTimestamp();
                    await HousekeepingAsync(stoppingToken);
                }
                // A full batch means more may be due: look again at once.
                mustClaim = room > 0 && claimed == room;
                if (!mustClaim)
                {
                    // Asked once: a retry already due is handed out (and forgotten) by this call.
                    var retryAt = signal.NextRetryAt(now);
                    claimBy = Earliest(claimBy, retryAt, tracker.NextHoldEndAt(now));
                    mustClaim = await signal.WaitAsync(UntilNextLook(now, retryAt), stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
            }
            catch (Exception exception)
            {
                logger.LogError(exception, "Claiming deliveries failed; retrying after {PollInterval}", _options.PollInterval);
                mustClaim = true;
                await Task.Delay(_options.PollInterval, time, CancellationToken.None);
            }
        }
        await DrainAsync();
    }

    /// <summary>
    /// This replica knows no puppet's health yet: events put off by a replica that stopped (this one before a restart,
    /// say) become due, and go out as any event does; a puppet still down is found so by its first attempt.
    /// </summary>
    private async Task WakePutOffAsync(CancellationToken cancellationToken)
    {
        try
        {
            var woken = await store.WakeAllAsync(time.GetUtcNow().UtcDateTime, cancellationToken);
            if (woken > 0)
            {
                logger.LogInformation("Starting: {Woken} events that waited for their puppet are due again", woken);
            }
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            logger.LogWarning(exception, "Starting: could not make waiting events due; they fall due by themselves within a lease duration");
        }
    }

    /// <summary>Events waiting in memory past half their lease get it renewed, in one group write.</summary>
    private async Task RenewHeldLeasesAsync(DateTime now)
    {
        var ending = dispatcher.LeasesEndingBefore(now + _options.LeaseDuration / 2);
        if (ending.Count == 0)
        {
            return;
        }
        var until = now + _options.LeaseDuration;
        var renewed = await Task.WhenAll(ending.Select(h => store.RenewLeaseAsync(h.Record.Id, h.Record.LeaseOwner!, until, CancellationToken.None)));
        for (var i = 0; i < ending.Count; i++)
        {
            dispatcher.Renewed(ending[i], renewed[i] ? until : null);
        }
    }

    /// <summary>
    /// The due events of puppets that stopped answering are put off before each claim, so no claim reads past a broken
    /// puppet's backlog: that read grew with the backlog, on the writer that commits every callback, and made healthy
    /// puppets' deliveries wait on how much broken ones had queued.
    /// </summary>
    private async Task PutOffUnreachableAsync(DateTime now, CancellationToken cancellationToken)
    {
        var unreachable = tracker.Unreachable();
        if (unreachable.Count == 0)
        {
            return;
        }
        await store.ParkAsync(unreachable, now, dispatcher.PutOffUntil(now), cancellationToken);
        // A probe that got its answer while this was on its way may have woken the puppet's events before they were put
        // off again: wake them once more. (One that got it later wakes them after this write anyway.)
        foreach (var kfId in unreachable.Where(kfId => !dispatcher.IsUnreachable(kfId)))
        {
            await store.WakeAsync(kfId, now, cancellationToken);
        }
    }

    /// <summary>Puppets whose stored events stay put: those waiting for a probe or a hold, and those whose lane is full.</summary>
    private IReadOnlyCollection<string> NotToClaim(DateTime now)
    {
        var waiting = tracker.Waiting(now);
        var full = dispatcher.FullLanes();
        return full.Count == 0 ? waiting : waiting.Concat(full).Distinct(StringComparer.Ordinal).ToArray();
    }

    private async Task StartProbesAsync(DateTime now, CancellationToken cancellationToken)
    {
        foreach (var kfId in tracker.ProbesDue(now))
        {
            if (dispatcher.RoomForProbes == 0)
            {
                return;
            }
            if (await ClaimProbeAsync(kfId, now, cancellationToken) is { } probe)
            {
                dispatcher.StartProbe(probe);
            }
        }
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

    /// <summary>One attempt; an event that waited in memory long enough for its lease to run low renews it first.</summary>
    private async Task DeliverAsync(DeliveryRecord record, bool isProbe)
    {
        await Task.Yield();
        var now = time.GetUtcNow().UtcDateTime;
        if (record is { LeaseOwner: { } token, LeaseUntil: { } until } && until - now < _options.AttemptTimeout + _options.AttemptTimeout)
        {
            if (!await store.RenewLeaseAsync(record.Id, token, now + _options.LeaseDuration, CancellationToken.None))
            {
                // Its lease ran out and another claim took the event; that claim delivers it.
                logger.LogDebug("Delivery {DeliveryId} for {KfId} was claimed again while it waited; leaving it to that claim", record.Id, record.KfId);
                return;
            }
            record = record with { LeaseUntil = now + _options.LeaseDuration };
        }
        await attempt.RunAsync(record, isProbe, _inFlightAbort.Token);
    }

    private static DateTime Earliest(DateTime at, params DateTime?[] others)
    {
        foreach (var other in others)
        {
            if (other is { } value && value < at)
            {
                at = value;
            }
        }
        return at;
    }

    /// <summary>The poll interval, or sooner when a puppet's probe, a hold's end or a retry falls due before it.</summary>
    private TimeSpan UntilNextLook(DateTime now, DateTime? retryAt)
    {
        var wait = _options.PollInterval;
        foreach (var due in new[] { tracker.NextWakeAt(now, probesCanStart: dispatcher.RoomForProbes > 0), retryAt })
        {
            if (due is { } at && at - now < wait)
            {
                wait = at > now ? at - now : TimeSpan.FromMilliseconds(1);
            }
        }
        return wait;
    }

    private async Task DrainAsync()
    {
        var held = dispatcher.Stop();
        if (held.Count > 0)
        {
            // Handed back due now, so a restart or another replica takes them at once instead of after their lease.
            var now = time.GetUtcNow().UtcDateTime;
            try
            {
                await store.HandBackAsync(held, putOffUntil: null, CancellationToken.None);
                logger.LogInformation("Shutting down: {Held} events not yet started stay queued", held.Count);
            }
            catch (Exception exception)
            {
                logger.LogWarning(exception, "Shutting down: could not hand {Held} events back to the store; they are taken again when their lease ends", held.Count);
            }
        }
        var running = dispatcher.Running();
        if (running.Length == 0)
        {
            return;
        }
        logger.LogInformation("Shutting down: waiting up to {ShutdownGrace} for {InFlight} in-flight deliveries", _options.ShutdownGrace, running.Length);
        var all = Task.WhenAll(running);
        if (await Task.WhenAny(all, Task.Delay(_options.ShutdownGrace, time)) != all)
        {
            _inFlightAbort.Cancel();
            await all;
        }
    }

    private async Task HousekeepingAsync(CancellationToken cancellationToken)
    {
        try
        {
            var now = time.GetUtcNow().UtcDateTime;
            var purged = await store.PurgeAsync(now - _options.DeliveredRetention, now - _options.DeadLetterRetention, cancellationToken);
            if (purged > 0)
            {
                logger.LogInformation("Purged {Purged} finished deliveries past retention", purged);
            }
            depths.Set(await store.CountPendingByPuppetAsync(cancellationToken));
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (Exception exception)
        {
            logger.LogWarning(exception, "Queue housekeeping failed; trying again in {Interval}", HousekeepingInterval);
        }
    }

    public override void Dispose()
    {
        _inFlightAbort.Dispose();
        base.Dispose();
    }
}
