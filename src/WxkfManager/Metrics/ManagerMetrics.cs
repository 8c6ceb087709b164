using Prometheus;
using WxkfManager.Delivery;

namespace WxkfManager.Metrics;

/// <summary>
/// The service's Prometheus metrics. Counters and histograms are updated where things happen; gauges are read at
/// scrape time. Every labelled series exists from the start at zero, so rate() and absent() work before the
/// first event, and prometheus-net's own collectors (event counters, .NET meters such as msquic's internals)
/// are left out: only the process metrics, ours and the HTTP ones are exposed.
/// </summary>
public static class ManagerMetrics
{
    // First field: runs before any metric below is created. prometheus-net adds its default collectors on the
    // first scrape, so start-up calls EnsureInitialized before anything can scrape.
    private static readonly bool DefaultCollectorsTrimmed = TrimDefaultCollectors();

    /// <summary>Trims prometheus-net's default collectors and creates every series at zero; safe to call again.</summary>
    public static void EnsureInitialized() => _ = DefaultCollectorsTrimmed;

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

    public static readonly Counter CallbacksReceived = Initialized(Prometheus.Metrics.CreateCounter(
        "wxkf_callbacks_received_total", "Callbacks received, by kind (encrypted, decrypted, verify).", "kind"), CallbackKinds);

    public static readonly Counter CallbacksAccepted = Initialized(Prometheus.Metrics.CreateCounter(
        "wxkf_callbacks_accepted_total", "Callbacks answered with success, by outcome (queued, duplicate, dead_lettered, ignored, verified).", "outcome"),
        AcceptedOutcomes);

    public static readonly Counter CallbacksRefused = Initialized(Prometheus.Metrics.CreateCounter(
        "wxkf_callbacks_refused_total", "Callbacks refused with a 4xx or 503, by reason.", "reason"), RefusalReasons);

    public static readonly Counter RegistrationsRefused = Initialized(Prometheus.Metrics.CreateCounter(
        "wxkf_registrations_refused_total", "Registrations refused with 409, by reason (cap: the fleet's or its corp's limit; ownership: other credentials for a registered kfId).", "reason"),
        RegistrationRefusals);

    public static readonly Counter Deliveries = Initialized(Prometheus.Metrics.CreateCounter(
        "wxkf_deliveries_total", "Delivery attempts to puppets, by outcome (delivered, retry, dead_lettered).", "outcome"),
        DeliveryOutcomes);

    public static readonly Histogram DeliveryLatency = Prometheus.Metrics.CreateHistogram(
        "wxkf_delivery_latency_seconds", "From receipt of a callback (or its replay by an operator) to its delivery to the puppet.",
        new HistogramConfiguration { Buckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 600] });

    public static readonly Counter TokenCache = Initialized(Prometheus.Metrics.CreateCounter(
        "wxkf_token_cache_total", "getToken answers, by result (hit, miss).", "result"), TokenCacheResults);

    public static readonly Gauge QueueDepth = Initialized(Prometheus.Metrics.CreateGauge(
        "wxkf_queue_depth", "Events in the delivery queue, by state (pending: waiting; in_flight: held by a worker).", "state"), QueueStates);

    public static readonly Gauge DeadLetters = Prometheus.Metrics.CreateGauge(
        "wxkf_dead_letters", "Events given up on and kept for replay.");

    public static readonly Gauge Puppets = Initialized(Prometheus.Metrics.CreateGauge(
        "wxkf_puppets", "Puppets known to this replica, by state (registered, online, unloadable: stored but skipped, see /operator/registry).", "state"), PuppetStates);

    /// <summary>
    /// Time from when the event was (re)queued to its delivery. An operator's replay queues a dead letter again
    /// with a fresh age limit (expiresAt = replay time + MaxAge), so its hours as a dead letter are not counted.
    /// </summary>
    public static void ObserveDeliveryLatency(DeliveryRecord record, DateTime deliveredAt, TimeSpan maxAge)
    {
        var queuedAt = record.ExpiresAt - maxAge > record.ReceivedAt ? record.ExpiresAt - maxAge : record.ReceivedAt;
        DeliveryLatency.Observe(Math.Max(0, (deliveredAt - queuedAt).TotalSeconds));
    }

    private static TCollector Initialized<TCollector>(TCollector collector, string[] labelValues) where TCollector : Collector
    {
        _ = DefaultCollectorsTrimmed;
        foreach (var value in labelValues)
        {
            switch (collector)
            {
                case Counter counter:
                    counter.WithLabels(value);
                    break;
                case Gauge gauge:
                    gauge.WithLabels(value);
                    break;
            }
        }
        return collector;
    }

    private static bool TrimDefaultCollectors()
    {
        Prometheus.Metrics.SuppressDefaultMetrics(new SuppressDefaultMetricOptions
        {
            SuppressProcessMetrics = false,
            SuppressDebugMetrics = true,
            SuppressEventCounters = true,
            SuppressMeters = true,
        });
        return true;
    }
}
