using Microsoft.Extensions.Options;
using WxkfManager.Crypto;
using WxkfManager.Delivery;
using WxkfManager.Settings;
using WxkfManager.Registry;
using WxkfManager.Security;
using WxkfManager.Storage;

namespace WxkfManager.Callbacks;

/// <summary>
/// Proves a callback came from WeCom, finds its puppet and queues it. Reads only the in-memory
/// directory, so answering WeCom never waits on the store or on a puppet.
/// </summary>
public sealed partial class CallbackIntake(
    PuppetDirectory directory,
    IDeliveryStore store,
    DeliveryDispatcher dispatcher,
    QueueDepths depths,
    DeliverySignal signal,
    RecentCallbacks recent,
    StoreStatus storeStatus,
    TimeProvider time,
    IOptions<DeliveryOptions> options,
    IOptions<CallbackOptions> callbackOptions,
    ILogger<CallbackIntake> logger)
{
    /// <summary>The one answer for an unknown corp and a bad signature; the log and metrics keep which it was.</summary>
    public const string SignatureRefusal = "msg_signature does not match";

    public async Task<IntakeResult> VerifyUrlAsync(string corpId, SignedQuery query, string echostr, CancellationToken cancellationToken)
    {
        var opened = await OpenAsync(corpId, query, echostr, cancellationToken);
        if (opened.Result is { } refused)
        {
            return refused;
        }
        Log.UrlVerified(logger, corpId);
        return IntakeResult.VerifiedWith(opened.Message!);
    }

    public async Task<IntakeResult> ReceiveEncryptedAsync(string corpId, SignedQuery query, string body, CancellationToken cancellationToken)
    {
        var envelope = CallbackEnvelope.TryParse(body);
        if (envelope is null)
        {
            return IntakeResult.Of(IntakeStatus.MalformedEvent, "body is not WeCom callback XML with an Encrypt element");
        }
        var opened = await OpenAsync(corpId, query, envelope.Encrypt, cancellationToken);
        if (opened.Result is { } refused)
        {
            return refused;
        }
        var signatureKey = DeliveryRecord.SignatureKeyOf(query)!;
        if (recent.Contains(signatureKey))
        {
            Log.ResendAnswered(logger, corpId);
            return IntakeResult.Of(IntakeStatus.Duplicate, "already queued");
        }
        var kfEvent = CallbackEvent.TryParse(opened.Message);
        if (kfEvent is null)
        {
            return IntakeResult.Of(IntakeStatus.MalformedEvent, "decrypted message is not well-formed XML");
        }
        if (!kfEvent.IsKfMessageOrEvent)
        {
            Log.EventIgnored(logger, kfEvent.Event ?? "(none)", corpId);
            return IntakeResult.Of(IntakeStatus.Ignored, "event type is not forwarded");
        }
        if (!WxkfManager.Registry.WeComIds.IsOpenKfId(kfEvent.OpenKfId))
        {
            return IntakeResult.Of(IntakeStatus.MalformedEvent, "kf_msg_or_event has no valid OpenKfId");
        }
        var puppet = await directory.FindInCorpAsync(corpId, kfEvent.OpenKfId, cancellationToken);
        return await EnqueueForPuppetAsync(CallbackKind.Encrypted, corpId, kfEvent.OpenKfId, puppet, kfEvent.Token ?? "", body, query, cancellationToken);
    }

    public async Task<IntakeResult> ReceiveDecryptedAsync(string corpId, string openKfId, string syncToken, string json, CancellationToken cancellationToken)
    {
        // Unsigned input is stored only for a puppet registered and online in that corp, so strangers cannot fill
        // the store; the sender is answered alike either way, so it cannot list corps and kfIds.
        if (!storeStatus.IsReady)
        {
            return StoreNotReady(corpId);
        }
        var puppet = await directory.FindInCorpAsync(corpId, openKfId, cancellationToken);
        if (puppet is null || !puppet.Online)
        {
            Log.DecryptedForUnknownPuppet(logger, openKfId, corpId);
            return IntakeResult.Of(IntakeStatus.UnknownPuppet, "not stored");
        }
        return await EnqueueForPuppetAsync(CallbackKind.Decrypted, corpId, openKfId, puppet, syncToken, json, query: null, cancellationToken);
    }

    /// <summary>
    /// Writes the event to the durable queue before the sender is answered. An event for a puppet that is
    /// gone or unknown goes straight to the dead letters, visible and replayable, and is never sent on its own.
    /// </summary>
    private async Task<IntakeResult> EnqueueForPuppetAsync(
        CallbackKind kind, string corpId, string kfId, PuppetRegistration? puppet, string syncToken, string body, SignedQuery? query,
        CancellationToken cancellationToken)
    {
        if (puppet is not { Online: true })
        {
            // This replica may be behind one where the puppet registered again a moment ago.
            puppet = await directory.ConfirmAsync(corpId, kfId, cancellationToken);
        }
        var deadReason = puppet is null ? "puppet is not registered" : !puppet.Online ? "puppet is deregistered" : null;
        var now = time.GetUtcNow().UtcDateTime;
        var id = Guid.CreateVersion7().ToString("N");
        // The delivery id is the callback's correlation id, from this log line to the puppet's header.
        using var correlation = logger.BeginScope(new Dictionary<string, object> { ["CorrelationId"] = id });
        if (deadReason is null && depths.Of(kfId) >= callbackOptions.Value.MaxQueuedPerPuppet)
        {
            Log.QueueFull(logger, kind, kfId, corpId, callbackOptions.Value.MaxQueuedPerPuppet);
            return IntakeResult.Of(IntakeStatus.QueueFull, "this puppet's queue is full, retry later");
        }
        var route = deadReason is null ? dispatcher.RouteFresh(kfId, now) : FreshRoute.Store;
        var handOff = route == FreshRoute.HandOff;
        var expiresAt = now + options.Value.MaxAge;
        var dueAt = route == FreshRoute.PutOff ? dispatcher.PutOffUntil(now) : now;
        var record = new DeliveryRecord(
            Id: id,
            Kind: kind,
            CorpId: corpId,
            KfId: kfId,
            Body: body,
            Query: query,
            SignatureKey: DeliveryRecord.SignatureKeyOf(query),
            // Without a sync token there is nothing to recognise a resend by but the signature.
            TokenKey: string.IsNullOrEmpty(syncToken) ? "id|" + id : DeliveryRecord.TokenKeyOf(kfId, syncToken),
            State: deadReason is null ? DeliveryState.Pending : DeliveryState.Dead,
            Attempts: 0,
            ReceivedAt: now,
            NextAttemptAt: dueAt < expiresAt ? dueAt : expiresAt,
            ExpiresAt: expiresAt,
            LeaseOwner: handOff ? dispatcher.NewLeaseToken() : null,
            LeaseUntil: handOff ? now + options.Value.LeaseDuration : null,
            LastError: deadReason,
            CompletedAt: deadReason is null ? null : now,
            Claims: handOff ? 1 : 0);

        EnqueueOutcome outcome;
        try
        {
            // Bounded, so a locked or unreachable store answers 503 inside WeCom's deadline and WeCom resends;
            // should the write land after all, the resend is recognised as a duplicate.
            outcome = await store.EnqueueAsync(record, cancellationToken).WaitAsync(callbackOptions.Value.StoreTimeout, cancellationToken);
        }
        catch (Exception exception) when (WxkfManager.Storage.StoreFailure.IsStoreFailure(exception))
        {
            Log.EnqueueFailed(logger, kind, kfId, $"{exception.GetType().Name}: {exception.Message}");
            return IntakeResult.Of(IntakeStatus.StoreUnavailable, "store unavailable, retry later");
        }
        if (record.SignatureKey is not null)
        {
            recent.Add(record.SignatureKey);
        }
        if (outcome == EnqueueOutcome.Duplicate)
        {
            Log.Duplicate(logger, kind, kfId);
            return IntakeResult.Of(IntakeStatus.Duplicate, "already queued");
        }
        if (deadReason is not null)
        {
            Log.DeadLettered(logger, kind, record.Id, kfId, corpId, deadReason);
            return IntakeResult.Of(IntakeStatus.DeadLettered, deadReason);
        }
        depths.Queued(kfId);
        if (outcome == EnqueueOutcome.Queued && handOff)
        {
            dispatcher.Add(record);
        }
        else if (route == FreshRoute.PutOff && !dispatcher.StillPutsOff(kfId))
        {
            // The puppet answered while this event was being written: the wake its answer made may have missed it.
            await WakeAsync(kfId, kind);
        }
        else if (route is FreshRoute.HandOff or FreshRoute.Store)
        {
            // It waits in the store because memory holds enough (or an earlier copy was queued again, unleased): the
            // worker takes it when a lane has room.
            signal.Notify();
        }
        // A waiting or put-off puppet's events are taken when its hold ends, a probe gets an answer or its attempt ends,
        // which wake the worker anyway: waking it for each of them had it read the store per event while a broken
        // puppet's backlog grew.
        Log.Queued(logger, kind, record.Id, kfId);
        return IntakeResult.QueuedAs(record.Id);
    }

    private async Task WakeAsync(string kfId, CallbackKind kind)
    {
        try
        {
            await store.WakeAsync(kfId, time.GetUtcNow().UtcDateTime, CancellationToken.None).WaitAsync(callbackOptions.Value.StoreTimeout);
        }
        catch (Exception exception)
        {
            // The event is stored: at worst it falls due at the end of its put-off.
            Log.WakeFailed(logger, kind, kfId, $"{exception.GetType().Name}: {exception.Message}");
        }
        signal.Notify();
    }

    /// <summary>The opened message or the refusal, or null when no credentials' signature matches.</summary>
    private (IntakeResult? Result, string? Message)? TryOpen(IReadOnlyList<WeComCrypto> credentials, string corpId, SignedQuery query, string encrypt)
    {
        foreach (var crypto in credentials)
        {
            var result = crypto.Open(query.MsgSignature, query.Timestamp, query.Nonce, encrypt, corpId);
            if (result.Status == OpenStatus.SignatureMismatch)
            {
                continue;
            }
            if (!result.IsOk)
            {
                Log.Unopenable(logger, corpId, result.Status);
                return (IntakeResult.Of(IntakeStatus.Undecryptable, result.Status.Describe()), null);
            }
            return (null, result.Message);
        }
        return null;
    }

    private IntakeResult StoreNotReady(string corpId)
    {
        Log.StoreNotReady(logger, corpId, storeStatus.NotReadyReason);
        return IntakeResult.Of(IntakeStatus.StoreUnavailable, "store not ready, retry later");
    }

    /// <summary>A captured callback replayed later carries an old timestamp; WeCom's own are current.</summary>
    private string? StaleTimestamp(string timestamp)
    {
        var tolerance = callbackOptions.Value.TimestampTolerance;
        if (tolerance == TimeSpan.Zero)
        {
            return null;
        }
        if (!long.TryParse(timestamp, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var seconds))
        {
            return "timestamp must be Unix seconds";
        }
        var skew = Math.Abs(time.GetUtcNow().ToUnixTimeSeconds() - seconds);
        return skew > tolerance.TotalSeconds ? $"timestamp is outside the allowed window of {tolerance.TotalSeconds:F0} s" : null;
    }

    private async Task<(IntakeResult? Result, string? Message)> OpenAsync(string corpId, SignedQuery query, string encrypt, CancellationToken cancellationToken)
    {
        if (StaleTimestamp(query.Timestamp) is { } stale)
        {
            Log.Refused(logger, corpId, stale);
            return (IntakeResult.Of(IntakeStatus.StaleTimestamp, stale), null);
        }
        if (!storeStatus.IsReady)
        {
            return (StoreNotReady(corpId), null);
        }
        var credentials = directory.CredentialsFor(corpId);
        if (credentials.Count == 0 && await directory.TryRefreshOnMissAsync(corpId, cancellationToken))
        {
            credentials = directory.CredentialsFor(corpId);
        }
        if (credentials.Count == 0)
        {
            Log.UnknownCorp(logger, corpId);
            // Answered like a bad signature, so nobody can learn which corps are registered.
            return (IntakeResult.Of(IntakeStatus.UnknownCorp, SignatureRefusal), null);
        }

        // A corp may run several apps: the credentials whose signature matches are the ones that sent it.
        var opened = TryOpen(credentials, corpId, query, encrypt);
        // A new app key registered through another replica a moment ago: catch up (rate-limited) and look again.
        if (opened is null && await directory.TryRefreshOnMissAsync(corpId, cancellationToken))
        {
            credentials = directory.CredentialsFor(corpId);
            opened = TryOpen(credentials, corpId, query, encrypt);
        }
        if (opened is { } found)
        {
            return found;
        }
        Log.SignatureMismatch(logger, corpId, credentials.Count);
        return (IntakeResult.Of(IntakeStatus.SignatureMismatch, SignatureRefusal), null);
    }
}
