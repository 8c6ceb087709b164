using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using WxkfManager.Metrics;

namespace WxkfManager.OperatorConsole;

/// <summary>
/// Running totals of this host's callback and delivery counters, for the Live page: a <see cref="MeterListener"/>
/// on <see cref="ManagerMetrics"/>' own meter (instruments cannot be read back, and another host's meter of the same
/// name is not this one). Test events are not in them.
/// </summary>
public sealed class LiveCounters : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<string, long> _refusedByReason = new(StringComparer.Ordinal);
    private readonly Lock _latencyLock = new();
    private long _callbacks;
    private long _delivered;
    private long _deliveryFailures;
    private double _latencySumSeconds;
    private long _latencyCount;

    public LiveCounters(ManagerMetrics metrics)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (ReferenceEquals(instrument.Meter, metrics.Meter) && instrument.Name is "wxkf_callbacks_received" or "wxkf_callbacks_refused" or "wxkf_deliveries" or "wxkf_delivery_latency")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>(OnCount);
        _listener.SetMeasurementEventCallback<double>(OnLatency);
        _listener.Start();
    }

    public CounterSnapshot Read(DateTimeOffset at)
    {
        double sum;
        long count;
        lock (_latencyLock)
        {
            (sum, count) = (_latencySumSeconds, _latencyCount);
        }
        return new CounterSnapshot(at, Interlocked.Read(ref _callbacks), Interlocked.Read(ref _delivered), Interlocked.Read(ref _deliveryFailures),
            sum, count, _refusedByReason.ToDictionary(pair => pair.Key, pair => (double)pair.Value, StringComparer.Ordinal));
    }

    public void Dispose() => _listener.Dispose();

    private void OnCount(Instrument instrument, long value, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
    {
        switch (instrument.Name)
        {
            case "wxkf_callbacks_received":
                Interlocked.Add(ref _callbacks, value);
                break;
            case "wxkf_callbacks_refused":
                _refusedByReason.AddOrUpdate(Tag(tags, "reason"), value, (_, total) => total + value);
                break;
            case "wxkf_deliveries" when Tag(tags, "outcome") == "delivered":
                Interlocked.Add(ref _delivered, value);
                break;
            case "wxkf_deliveries":
                Interlocked.Add(ref _deliveryFailures, value);
                break;
        }
    }

    private void OnLatency(Instrument instrument, double seconds, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
    {
        lock (_latencyLock)
        {
            _latencySumSeconds += seconds;
            _latencyCount++;
        }
    }

    private static string Tag(ReadOnlySpan<KeyValuePair<string, object?>> tags, string name)
    {
        foreach (var tag in tags)
        {
            if (tag.Key == name)
            {
                return tag.Value as string ?? "";
            }
        }
        return "";
    }
}
