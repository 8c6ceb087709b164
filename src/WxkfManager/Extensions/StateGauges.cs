using System.Diagnostics.Metrics;
using WxkfManager.Apis;
using WxkfManager.Delivery;
using WxkfManager.Metrics;
using WxkfManager.Registry;
using WxkfManager.Storage;

namespace WxkfManager.Extensions;

/// <summary>
/// The gauges, read when they are collected: puppets from this replica's directory, and the queue from the
/// store's counts. Gauge callbacks are synchronous, so /metrics reads the store first (<see cref="RefreshQueueAsync"/>)
/// and the callbacks report that reading; a store that fails keeps the last one (the store's health is /ready's business).
/// </summary>
public sealed class StateGauges
{
    private readonly PuppetDirectory _directory;
    private readonly IDeliveryStore _store;
    private readonly TimeProvider _time;
    private volatile DeliveryQueueStats _queue = new(0, 0, 0, 0, null);

    public StateGauges(ManagerMetrics metrics, PuppetDirectory directory, IDeliveryStore store, TimeProvider time)
    {
        _directory = directory;
        _store = store;
        _time = time;
        metrics.Meter.CreateObservableGauge("wxkf_queue_depth", ObserveQueue,
            description: "Events in the delivery queue, by state (pending: waiting; in_flight: held by a worker).");
        metrics.Meter.CreateObservableGauge("wxkf_dead_letters", () => (long)_queue.Dead, description: "Events given up on and kept for replay.");
        metrics.Meter.CreateObservableGauge("wxkf_puppets", ObservePuppets,
            description: "Puppets known to this replica, by state (registered, online, unloadable: stored but skipped, see /operator/registry).");
    }

    public async Task RefreshQueueAsync(CancellationToken cancellationToken)
    {
        try
        {
            _queue = await _store.GetStatsAsync(_time.GetUtcNow().UtcDateTime, cancellationToken);
        }
        catch (Exception exception) when (StoreFailure.IsStoreFailure(exception))
        {
        }
    }

    private IEnumerable<Measurement<long>> ObserveQueue()
    {
        var queue = _queue;
        return [State("pending", queue.Pending), State("in_flight", queue.Leased)];
    }

    private IEnumerable<Measurement<long>> ObservePuppets() =>
    [
        State("registered", _directory.Count),
        State("online", _directory.OnlineCount),
        State("unloadable", _directory.Unloadable.Count),
    ];

    private static Measurement<long> State(string state, long value) => new(value, new KeyValuePair<string, object?>("state", state));
}
