using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json.Serialization;
using WxkfManager.Callbacks;
using WxkfManager.Crypto;
using WxkfManager.Delivery;
using WxkfManager.Metrics;
using WxkfManager.Registry;

namespace WxkfManager.OperatorConsole;

/// <summary>What became of a test event: the intake's verdict, then the delivery as far as it got in the wait.</summary>
public sealed record TestEventOutcome(
    [property: JsonPropertyName("test")] bool Test,
    [property: JsonPropertyName("kfId")] string KfId,
    [property: JsonPropertyName("corpId")] string CorpId,
    [property: JsonPropertyName("endpoint")] string Endpoint,
    [property: JsonPropertyName("syncToken")] string SyncToken,
    [property: JsonPropertyName("intake")] string Intake,
    [property: JsonPropertyName("intakeDetail")] string? IntakeDetail,
    [property: JsonPropertyName("deliveryId")] string? DeliveryId,
    [property: JsonPropertyName("state")] string State,
    [property: JsonPropertyName("delivered")] bool Delivered,
    [property: JsonPropertyName("attempts")] int Attempts,
    [property: JsonPropertyName("puppetAnswer")] string? PuppetAnswer,
    [property: JsonPropertyName("elapsedMs")] double ElapsedMs);

/// <summary>
/// Plays WeCom for one puppet: a kf_msg_or_event with a recognisable test sync token, sealed and signed with the
/// puppet's own registered credentials, handed to the same intake WeCom's callbacks go through (verify, decrypt,
/// route, queue), then delivered by the worker like any other. Counted apart from WeCom's callbacks.
/// </summary>
public sealed class TestEventSimulator(
    PuppetDirectory directory,
    CallbackIntake intake,
    IDeliveryStore store,
    TimeProvider time,
    ManagerMetrics metrics,
    ILogger<TestEventSimulator> logger)
{
    public const string SyncTokenPrefix = "wxkf-test-";
    public static readonly TimeSpan MaxWait = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>Sends a test event to a registered puppet and waits up to <paramref name="wait"/> for its delivery to finish.</summary>
    public async Task<TestEventOutcome> SendAsync(PuppetEntry entry, TimeSpan wait, CancellationToken cancellationToken)
    {
        var puppet = entry.Registration;
        var started = time.GetTimestamp();
        var syncToken = SyncTokenPrefix + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        var now = time.GetUtcNow();
        var timestamp = now.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var nonce = RandomNumberGenerator.GetInt32(100_000_000, 1_000_000_000).ToString(CultureInfo.InvariantCulture);
        var message = new CallbackEvent(puppet.CorpId, timestamp, "event", CallbackEvent.KfMessageOrEvent, syncToken, puppet.KfId).ToXml();
        var seal = entry.Crypto.Seal(message, puppet.CorpId, timestamp, nonce);
        var body = new CallbackEnvelope(puppet.CorpId, "", seal.Encrypt).ToXml();

        using var scope = logger.BeginScope(new Dictionary<string, object> { ["Test"] = true });
        logger.LogInformation("Test event for {KfId} in {CorpId}: sending a signed kf_msg_or_event through the callback intake", puppet.KfId, puppet.CorpId);
        var result = await intake.ReceiveEncryptedAsync(puppet.CorpId, new SignedQuery(seal.Signature, timestamp, nonce), body, cancellationToken);
        if (result.Status != IntakeStatus.Queued)
        {
            metrics.TestEventSent("refused");
            logger.LogWarning("Test event for {KfId} not queued: {IntakeStatus} ({Reason})", puppet.KfId, result.Status, result.Reason);
            return Outcome(puppet, syncToken, result, deliveryId: null, record: null, started);
        }

        var deliveryId = result.DeliveryId!;
        var record = await WaitForOutcomeAsync(deliveryId, wait, cancellationToken);
        var label = record?.State switch
        {
            DeliveryState.Delivered => "delivered",
            DeliveryState.Dead => "dead_lettered",
            _ => "pending",
        };
        metrics.TestEventSent(label);
        logger.LogInformation("Test event {DeliveryId} for {KfId}: {TestOutcome} after {Attempts} attempt(s)", deliveryId, puppet.KfId, label, record?.Attempts ?? 0);
        return Outcome(puppet, syncToken, result, deliveryId, record, started);
    }

    public async Task<PuppetEntry?> FindAsync(string kfId, CancellationToken cancellationToken)
    {
        if (directory.Find(kfId) is { } entry)
        {
            return entry;
        }
        await directory.TryRefreshOnMissAsync(cancellationToken);
        return directory.Find(kfId);
    }

    private async Task<DeliveryRecord?> WaitForOutcomeAsync(string deliveryId, TimeSpan wait, CancellationToken cancellationToken)
    {
        using var deadline = new CancellationTokenSource(wait, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, cancellationToken);
        var record = await store.FindAsync(deliveryId, cancellationToken);
        while (record is { State: DeliveryState.Pending } && !deadline.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(PollInterval, time, linked.Token);
            }
            catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                break;
            }
            record = await store.FindAsync(deliveryId, cancellationToken);
        }
        return record;
    }

    private TestEventOutcome Outcome(PuppetRegistration puppet, string syncToken, IntakeResult intakeResult, string? deliveryId, DeliveryRecord? record, long started)
    {
        var state = record?.State switch
        {
            DeliveryState.Delivered => "delivered",
            DeliveryState.Dead => "dead",
            DeliveryState.Pending => "pending",
            _ => "refused",
        };
        // A failed attempt keeps its error ("puppet answered HTTP 500", "connection failed: ..."); a success keeps none.
        var answer = record switch
        {
            { State: DeliveryState.Delivered } => "accepted (HTTP 2xx)",
            { LastError: { } error } => error,
            { State: DeliveryState.Pending } => "no answer yet",
            _ => null,
        };
        return new TestEventOutcome(
            Test: true,
            puppet.KfId,
            puppet.CorpId,
            puppet.Endpoint,
            syncToken,
            Intake: intakeResult.Status.ToString(),
            IntakeDetail: intakeResult.Reason,
            deliveryId,
            state,
            Delivered: record?.State == DeliveryState.Delivered,
            Attempts: record?.Attempts ?? 0,
            answer,
            Math.Round(time.GetElapsedTime(started).TotalMilliseconds, 1));
    }
}
