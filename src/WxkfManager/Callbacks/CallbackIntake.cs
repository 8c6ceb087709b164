using WxkfManager.Crypto;
using WxkfManager.Delivery;
using WxkfManager.Registry;

namespace WxkfManager.Callbacks;

/// <summary>
/// Proves a callback came from WeCom, finds its puppet and queues it. Reads only the in-memory
/// directory, so answering WeCom never waits on the store or on a puppet.
/// </summary>
public sealed class CallbackIntake(PuppetDirectory directory, DeliveryQueue queue, TimeProvider time, ILogger<CallbackIntake> logger)
{
    public async Task<IntakeResult> VerifyUrlAsync(string corpId, SignedQuery query, string echostr, CancellationToken cancellationToken)
    {
        var opened = await OpenAsync(corpId, query, echostr, cancellationToken);
        if (opened.Result is { } refused)
        {
            return refused;
        }
        logger.LogInformation("Callback URL verified for {CorpId}", corpId);
        return IntakeResult.Of(IntakeStatus.Verified, opened.Message!);
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
        var kfEvent = CallbackEvent.TryParse(opened.Message);
        if (kfEvent is null)
        {
            return IntakeResult.Of(IntakeStatus.MalformedEvent, "decrypted message is not well-formed XML");
        }
        if (!kfEvent.IsKfMessageOrEvent)
        {
            logger.LogInformation("Ignoring event {Event} for {CorpId}: only kf_msg_or_event is forwarded", kfEvent.Event ?? "(none)", corpId);
            return IntakeResult.Of(IntakeStatus.Ignored, "event type is not forwarded");
        }
        if (string.IsNullOrEmpty(kfEvent.OpenKfId))
        {
            return IntakeResult.Of(IntakeStatus.MalformedEvent, "kf_msg_or_event has no OpenKfId");
        }
        return await RouteAsync(CallbackKind.Encrypted, corpId, kfEvent.OpenKfId, body, query, cancellationToken);
    }

    public Task<IntakeResult> ReceiveDecryptedAsync(string corpId, string openKfId, string json, CancellationToken cancellationToken) =>
        RouteAsync(CallbackKind.Decrypted, corpId, openKfId, json, query: null, cancellationToken);

    private async Task<IntakeResult> RouteAsync(CallbackKind kind, string corpId, string kfId, string body, SignedQuery? query, CancellationToken cancellationToken)
    {
        var puppet = await FindPuppetAsync(corpId, kfId, cancellationToken);
        if (puppet is null)
        {
            logger.LogWarning("No puppet {KfId} is registered in {CorpId}; {Kind} callback not forwarded", kfId, corpId, kind);
            return IntakeResult.Of(IntakeStatus.UnknownPuppet, $"no puppet {kfId} is registered in corp {corpId}");
        }
        if (!puppet.Online)
        {
            logger.LogWarning("Puppet {KfId} deregistered at {LastOnlineDate}; {Kind} callback not forwarded", kfId, puppet.LastOnlineDate, kind);
            return IntakeResult.Of(IntakeStatus.Ignored, "puppet is deregistered");
        }

        var delivery = new PuppetDelivery(Guid.CreateVersion7().ToString("N"), kind, corpId, kfId, puppet.Endpoint, body, query, time.GetUtcNow().UtcDateTime);
        if (!queue.TryEnqueue(delivery))
        {
            logger.LogError("Delivery queue is full; refusing {Kind} callback for {KfId} so the sender retries", kind, kfId);
            return IntakeResult.Of(IntakeStatus.QueueFull, "delivery queue is full, retry later");
        }
        logger.LogInformation("Queued {Kind} callback {DeliveryId} for {KfId}", kind, delivery.Id, kfId);
        return IntakeResult.Of(IntakeStatus.Queued, delivery.Id);
    }

    private async Task<PuppetRegistration?> FindPuppetAsync(string corpId, string kfId, CancellationToken cancellationToken)
    {
        var entry = directory.Find(kfId);
        if (entry?.Registration.CorpId != corpId && await directory.TryRefreshOnMissAsync(cancellationToken))
        {
            entry = directory.Find(kfId);
        }
        return entry?.Registration.CorpId == corpId ? entry.Registration : null;
    }

    private async Task<(IntakeResult? Result, string? Message)> OpenAsync(string corpId, SignedQuery query, string encrypt, CancellationToken cancellationToken)
    {
        var credentials = directory.CredentialsFor(corpId);
        if (credentials.Count == 0 && await directory.TryRefreshOnMissAsync(cancellationToken))
        {
            credentials = directory.CredentialsFor(corpId);
        }
        if (credentials.Count == 0)
        {
            logger.LogWarning("Callback for {CorpId}, which has no registered puppet", corpId);
            return (IntakeResult.Of(IntakeStatus.UnknownCorp, $"no puppet is registered for corp {corpId}"), null);
        }

        // A corp may run several apps: the credentials whose signature matches are the ones that sent it.
        foreach (var crypto in credentials)
        {
            var result = crypto.Open(query.MsgSignature, query.Timestamp, query.Nonce, encrypt, corpId);
            if (result.Status == OpenStatus.SignatureMismatch)
            {
                continue;
            }
            if (!result.IsOk)
            {
                logger.LogWarning("Callback for {CorpId} has a valid signature but cannot be opened: {Reason}", corpId, result.Status);
                return (IntakeResult.Of(IntakeStatus.Undecryptable, result.Status.Describe()), null);
            }
            return (null, result.Message);
        }
        logger.LogWarning("Callback for {CorpId} matches none of its {CredentialCount} registered apps' signatures", corpId, credentials.Count);
        return (IntakeResult.Of(IntakeStatus.SignatureMismatch, "msg_signature does not match any app registered for this corp"), null);
    }
}
