using Prometheus;

namespace WxkfManager.Metrics;

/// <summary>The service's Prometheus metrics. Counters and histograms are updated where things happen; gauges are read at scrape time.</summary>
public static class ManagerMetrics
{
    public static readonly Counter CallbacksReceived = Prometheus.Metrics.CreateCounter(
        "wxkf_callbacks_received_total", "Callbacks received, by kind (encrypted, decrypted, verify).", "kind");

    public static readonly Counter CallbacksAccepted = Prometheus.Metrics.CreateCounter(
        "wxkf_callbacks_accepted_total", "Callbacks answered with success, by outcome (queued, duplicate, dead_lettered, ignored, verified).", "outcome");

    public static readonly Counter CallbacksRefused = Prometheus.Metrics.CreateCounter(
        "wxkf_callbacks_refused_total", "Callbacks refused, by reason.", "reason");

    public static readonly Counter Deliveries = Prometheus.Metrics.CreateCounter(
        "wxkf_deliveries_total", "Delivery attempts to puppets, by outcome (delivered, retry, dead_lettered, circuit_open).", "outcome");

    public static readonly Histogram DeliveryLatency = Prometheus.Metrics.CreateHistogram(
        "wxkf_delivery_latency_seconds", "From receipt of a callback to its delivery to the puppet.",
        new HistogramConfiguration { Buckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 600] });

    public static readonly Counter TokenCache = Prometheus.Metrics.CreateCounter(
        "wxkf_token_cache_total", "getToken answers, by result (hit, miss).", "result");

    public static readonly Gauge QueueDepth = Prometheus.Metrics.CreateGauge(
        "wxkf_queue_depth", "Events in the delivery queue, by state (pending, in_flight).", "state");

    public static readonly Gauge DeadLetters = Prometheus.Metrics.CreateGauge(
        "wxkf_dead_letters", "Events given up on and kept for replay.");

    public static readonly Gauge Puppets = Prometheus.Metrics.CreateGauge(
        "wxkf_puppets", "Puppets known to this replica, by state (registered, online, unloadable: stored but skipped, see /operator/registry).", "state");
}
