using System.Diagnostics.Metrics;

namespace WxkfManager.Metrics;

/// <summary>
/// The service's own instruments, on one <see cref="Meter"/> from the host's <see cref="IMeterFactory"/> (so each host,
/// and each test's host, counts apart). Exported on /metrics by OpenTelemetry's Prometheus exporter, which adds the
/// unit and <c>_total</c> suffixes: <c>wxkf_callbacks_received</c> is scraped as <c>wxkf_callbacks_received_total</c>.
/// Every labelled counter series is recorded once at zero, so rate() and absent() work before the first event.
/// The gauges (queue depth, dead letters, puppets) are observed at scrape time (Extensions/StateGauges.cs): this class uses nothing of the service, so every folder may use it.
/// </summary>
public sealed class ManagerMetrics
{
    public const string MeterName = "WxkfManager";

    public static readonly string[] CallbackKinds = ["encrypted", "decrypted", "verify"];
    public static readonly string[] AcceptedOutcomes = ["queued", "duplicate", "dead_lettered", "ignored", "verified"];
    public static readonly string[] RefusalReasons =
    [
        "signature_mismatch", "stale_timestamp", "undecryptable", "malformed_event", "unknown_corp", "unknown_puppet",
        "bad_query", "bad_body", "too_large", "rate_limited", "store_unavailable",
    ];
    public static readonly string[] DeliveryOutcomes = ["delivered", "retry", "dead_lettered"];
    public static readonly string[] TokenCacheResults = ["hit", "miss"];
    public static readonly string[] QueueStates = ["pending", "in_flight"];
    public static readonly string[] PuppetStates = ["registered", "online", "unloadable"];
    public static readonly string[] RegistrationRefusals = ["cap", "ownership"];
    public static readonly string[] TestEventOutcomes = ["refused", "delivered", "dead_lettered", "pending"];

    /// <summary>Seconds; from 5 ms (a puppet next door) to 10 minutes (a puppet that came back).</summary>
    public static readonly double[] LatencyBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 600];

    private readonly Counter<long> _callbacksReceived;
    private readonly Counter<long> _callbacksAccepted;
    private readonly Counter<long> _callbacksRefused;
    private readonly Counter<long> _registrationsRefused;
    private readonly Counter<long> _deliveries;
    private readonly Histogram<double> _deliveryLatency;
    private readonly Counter<long> _tokenCache;
    private readonly Counter<long> _testEvents;

    public ManagerMetrics(IMeterFactory meterFactory)
    {
        Meter = meterFactory.Create(MeterName);
        _callbacksReceived = Counted("wxkf_callbacks_received", "Callbacks received, by kind (encrypted, decrypted, verify).", "kind", CallbackKinds);
        _callbacksAccepted = Counted("wxkf_callbacks_accepted",
            "Callbacks answered with success, by outcome (queued, duplicate, dead_lettered, ignored, verified).", "outcome", AcceptedOutcomes);
        _callbacksRefused = Counted("wxkf_callbacks_refused", "Callbacks refused with a 4xx or 503, by reason.", "reason", RefusalReasons);
        _registrationsRefused = Counted("wxkf_registrations_refused",
            "Registrations refused with 409, by reason (cap: the fleet's or its corp's limit; ownership: other credentials for a registered kfId).",
            "reason", RegistrationRefusals);
        _deliveries = Counted("wxkf_deliveries", "Delivery attempts to puppets, by outcome (delivered, retry, dead_lettered).", "outcome", DeliveryOutcomes);
        _deliveryLatency = Meter.CreateHistogram("wxkf_delivery_latency", unit: "s",
            description: "From receipt of a callback (or its replay by an operator) to its delivery to the puppet.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LatencyBuckets });
        _tokenCache = Counted("wxkf_token_cache", "getToken answers, by result (hit, miss).", "result", TokenCacheResults);
        _testEvents = Counted("wxkf_test_events",
            "Simulated callbacks sent from the console or /operator (never counted as WeCom's), by outcome.", "outcome", TestEventOutcomes);
    }

    public Meter Meter { get; }

    public void CallbackReceived(string kind) => _callbacksReceived.Add(1, Tag("kind", kind));

    public void CallbackAccepted(string outcome) => _callbacksAccepted.Add(1, Tag("outcome", outcome));

    public void CallbackRefused(string reason) => _callbacksRefused.Add(1, Tag("reason", reason));

    public void RegistrationRefused(string reason) => _registrationsRefused.Add(1, Tag("reason", reason));

    /// <summary>
    /// A delivery, and the time since the event was (re)queued. An operator's replay queues a dead letter again
    /// with a fresh age limit (expiresAt = replay time + MaxAge), so <paramref name="requeuedAt"/> (expiresAt - MaxAge)
    /// is later than its receipt, and its hours as a dead letter are not counted.
    /// </summary>
    public void Delivered(DateTime receivedAt, DateTime requeuedAt, DateTime deliveredAt)
    {
        _deliveries.Add(1, Tag("outcome", "delivered"));
        var queuedAt = requeuedAt > receivedAt ? requeuedAt : receivedAt;
        _deliveryLatency.Record(Math.Max(0, (deliveredAt - queuedAt).TotalSeconds));
    }

    public void DeliveryRetried() => _deliveries.Add(1, Tag("outcome", "retry"));

    public void DeliveryDeadLettered() => _deliveries.Add(1, Tag("outcome", "dead_lettered"));

    public void TokenAnswered(bool fromCache) => _tokenCache.Add(1, Tag("result", fromCache ? "hit" : "miss"));

    public void TestEventSent(string outcome) => _testEvents.Add(1, Tag("outcome", outcome));

    private Counter<long> Counted(string name, string description, string label, string[] values)
    {
        var counter = Meter.CreateCounter<long>(name, description: description);
        foreach (var value in values)
        {
            counter.Add(0, Tag(label, value));
        }
        return counter;
    }

    private static KeyValuePair<string, object?> Tag(string name, string value) => new(name, value);
}
