using System.Diagnostics;
using Microsoft.Extensions.Options;
using WxkfManager.Metrics;
using WxkfManager.Settings;
using WxkfManager.Registry;

namespace WxkfManager.Delivery;

/// <summary>
/// One leased event, one try: find its puppet, post it, record the outcome, and let <see cref="RetryPolicy"/>
/// say what follows a failure. Writes one log line per attempt.
/// </summary>
public sealed partial class DeliveryAttempt(
    IDeliveryStore store,
    PuppetDirectory directory,
    DeliveryTracker tracker,
    DeliverySignal signal,
    QueueDepths depths,
    DeliveryDispatcher dispatcher,
    IServiceScopeFactory scopes,
    TimeProvider time,
    ManagerMetrics metrics,
    IOptions<DeliveryOptions> options,
    ILogger<DeliveryAttempt> logger)
{
    private readonly DeliveryOptions _options = options.Value;

    /// <summary>Who holds this replica's leases.</summary>
    public string Owner => dispatcher.Owner;

    public async Task RunAsync(DeliveryRecord record, bool isProbe, CancellationToken abort)
    {
        await AttemptAsync(record, isProbe, abort);
        var now = time.GetUtcNow().UtcDateTime;
        if (!isProbe && dispatcher.AttemptEnded(record.KfId, now) && !tracker.HealthOf(record.KfId).IsUnreachable)
        {
            // Events that came while this attempt went unanswered were stored put off; it ended, so they go as any do.
            await WakeWaitingAsync(record.KfId, now);
        }
    }

    private async Task AttemptAsync(DeliveryRecord record, bool isProbe, CancellationToken abort)
    {
        using var scope = logger.BeginScope(new Dictionary<string, object> { ["CorrelationId"] = record.Id, ["KfId"] = record.KfId });
        var puppet = await directory.FindInCorpAsync(record.CorpId, record.KfId, CancellationToken.None);
        if (puppet is not { Online: true })
        {
            // This replica may be behind one where the puppet registered again a moment ago.
            puppet = await directory.ConfirmAsync(record.CorpId, record.KfId, CancellationToken.None);
        }
        var now = time.GetUtcNow().UtcDateTime;
        var deadReason = puppet is null ? "puppet is not registered"
            : !puppet.Online ? "puppet is deregistered"
            : DeliveryGate.DeadReason(record, now, _options);
        if (deadReason is not null)
        {
            await DeadLetterAsync(record, record.Attempts, deadReason, now);
            return;
        }
        if (!isProbe && tracker.HealthOf(record.KfId).IsUnreachable)
        {
            // Leased a moment before its puppet stopped answering: it waits for the probe like the others.
            await HandBackAsync(record.KfId, [record], now);
            return;
        }

        var started = Stopwatch.GetTimestamp();
        DeliveryResult result;
        using (var client = scopes.CreateScope())
        {
            try
            {
                result = await client.ServiceProvider.GetRequiredService<PuppetClient>().DeliverAsync(record.ToDelivery(puppet!.Endpoint), abort);
            }
            catch (OperationCanceledException) when (abort.IsCancellationRequested)
            {
                await store.RescheduleAsync(record.Id, LeaseOf(record), record.Attempts, time.GetUtcNow().UtcDateTime, "interrupted by shutdown", CancellationToken.None);
                Log.InterruptedByShutdown(logger, record.KfId);
                return;
            }
        }

        now = time.GetUtcNow().UtcDateTime;
        var attempts = record.Attempts + 1;
        if (result.Delivered)
        {
            if (await store.MarkDeliveredAsync(record.Id, LeaseOf(record), attempts, now, CancellationToken.None))
            {
                depths.Finished(record.KfId);
            }
            var before = tracker.Succeeded(record.KfId, now);
            metrics.Delivered(record.ReceivedAt, requeuedAt: record.ExpiresAt - _options.MaxAge, deliveredAt: now);
            Log.Delivered(logger, record.Kind, record.KfId, puppet.Endpoint, Stopwatch.GetElapsedTime(started).TotalMilliseconds, result.StatusCode, attempts,
                (now - record.ReceivedAt).TotalMilliseconds);
            if (before.UnreachableSince is { } since)
            {
                Log.PuppetAnswersAgain(logger, record.KfId, (now - since).TotalSeconds);
                await WakeWaitingAsync(record.KfId, now);
            }
            return;
        }

        var wasUnreachable = tracker.HealthOf(record.KfId).IsUnreachable;
        var health = tracker.Failed(record.KfId, now, result);
        if (wasUnreachable && !health.IsUnreachable)
        {
            await WakeWaitingAsync(record.KfId, now);
        }
        else if (!wasUnreachable && health.IsUnreachable)
        {
            await HandBackAsync(record.KfId, dispatcher.TakeHeld(record.KfId), now);
        }
        switch (RetryPolicy.AfterFailure(record, attempts, result, health, now, _options, Random.Shared.NextDouble()))
        {
            case NextStep.GiveUp giveUp:
                await DeadLetterAsync(record, attempts, giveUp.Reason, now, puppet.Endpoint);
                break;
            case NextStep.RetryAt retry:
                await store.RescheduleAsync(record.Id, LeaseOf(record), attempts, retry.At, result.Error!, CancellationToken.None);
                signal.RetryDueAt(retry.At);
                metrics.DeliveryRetried();
                Log.RetryScheduled(logger, record.Kind, record.KfId, puppet.Endpoint, result.Error, attempts,
                    health.UnreachableSince is { } since ? $"; puppet unreachable since {since:O}, its events wait" : "", retry.At);
                break;
        }
    }

    /// <summary>The puppet answers again: its put-off events become due, and the worker hears of it.</summary>
    private async Task WakeWaitingAsync(string kfId, DateTime now)
    {
        try
        {
            await store.WakeAsync(kfId, now, CancellationToken.None);
        }
        catch (Exception exception)
        {
            // Best effort: the puppet's events fall due by themselves at the end of their put-off.
            Log.WakeFailed(logger, kfId, $"{exception.GetType().Name}: {exception.Message}");
        }
        signal.Notify();
    }

    /// <summary>
    /// Events leased to this replica whose puppet stopped answering go back to the store in one write, put off like the
    /// puppet's stored events, for its probe to take.
    /// </summary>
    private async Task HandBackAsync(string kfId, IReadOnlyList<DeliveryRecord> held, DateTime now)
    {
        if (held.Count == 0)
        {
            return;
        }
        try
        {
            await store.HandBackAsync(held, dispatcher.PutOffUntil(now), CancellationToken.None);
            Log.HandedBack(logger, kfId, held.Count);
        }
        catch (Exception exception)
        {
            // Nothing is lost: the events are taken again when their leases end.
            Log.HandBackFailed(logger, kfId, held.Count, $"{exception.GetType().Name}: {exception.Message}");
        }
    }

    /// <summary>Completions name this claim's own lease token: a lease that ran out and was claimed again is not ours.</summary>
    private string LeaseOf(DeliveryRecord record) => record.LeaseOwner ?? Owner;

    private async Task DeadLetterAsync(DeliveryRecord record, int attempts, string reason, DateTime now, string? endpoint = null)
    {
        if (await store.DeadLetterAsync(record.Id, LeaseOf(record), attempts, reason, now, CancellationToken.None))
        {
            depths.Finished(record.KfId);
        }
        metrics.DeliveryDeadLettered();
        Log.DeadLettered(logger, record.Kind, record.KfId, endpoint is null ? "" : " at " + endpoint, reason);
    }
}
