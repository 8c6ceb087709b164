using System.Text.Json.Serialization;

namespace WxkfManager.OperatorConsole;

/// <summary>The service's counters at one moment (<see cref="LiveCounters"/>); rates come from the difference of two.</summary>
public sealed record CounterSnapshot(
    DateTimeOffset At,
    double Callbacks,
    double Delivered,
    double DeliveryFailures,
    double LatencySumSeconds,
    double LatencyCount,
    IReadOnlyDictionary<string, double> RefusedByReason);

/// <summary>One point of the Live page's charts: rates over the interval that ended at <see cref="At"/>.</summary>
public sealed record LivePoint(
    [property: JsonPropertyName("at")] DateTimeOffset At,
    [property: JsonPropertyName("callbacksPerSecond")] double CallbacksPerSecond,
    [property: JsonPropertyName("deliveriesPerSecond")] double DeliveriesPerSecond,
    [property: JsonPropertyName("failuresPerSecond")] double FailuresPerSecond,
    [property: JsonPropertyName("ackLatencyMs")] double? AckLatencyMs,
    [property: JsonPropertyName("refusedPerSecond")] IReadOnlyDictionary<string, double> RefusedPerSecond)
{
    public static LivePoint Between(CounterSnapshot before, CounterSnapshot after)
    {
        var seconds = Math.Max((after.At - before.At).TotalSeconds, 0.001);
        double Rate(double from, double to) => Math.Round(Math.Max(to - from, 0) / seconds, 3);
        var latencyCount = after.LatencyCount - before.LatencyCount;
        var refused = after.RefusedByReason
            .Select(pair => (pair.Key, Rate(before.RefusedByReason.GetValueOrDefault(pair.Key), pair.Value)))
            .Where(pair => pair.Item2 > 0)
            .ToDictionary(pair => pair.Key, pair => pair.Item2, StringComparer.Ordinal);
        return new LivePoint(
            after.At,
            Rate(before.Callbacks, after.Callbacks),
            Rate(before.Delivered, after.Delivered),
            Rate(before.DeliveryFailures, after.DeliveryFailures),
            latencyCount > 0 ? Math.Round((after.LatencySumSeconds - before.LatencySumSeconds) / latencyCount * 1000, 1) : null,
            refused);
    }
}

/// <summary>
/// The last few minutes of counter snapshots, in a fixed-size ring: memory stays flat however long the
/// service runs. Written by <see cref="LiveSampler"/>, read by the Live page.
/// </summary>
public sealed class LiveSamples
{
    public const int Capacity = 181;

    private readonly CounterSnapshot?[] _ring = new CounterSnapshot?[Capacity];
    private readonly Lock _lock = new();
    private int _next;
    private int _count;

    public void Add(CounterSnapshot snapshot)
    {
        lock (_lock)
        {
            _ring[_next] = snapshot;
            _next = (_next + 1) % Capacity;
            _count = Math.Min(_count + 1, Capacity);
        }
    }

    /// <summary>Rates between consecutive snapshots, oldest first (one fewer than the snapshots kept).</summary>
    public IReadOnlyList<LivePoint> Points()
    {
        CounterSnapshot[] ordered;
        lock (_lock)
        {
            ordered = new CounterSnapshot[_count];
            for (var i = 0; i < _count; i++)
            {
                ordered[i] = _ring[(_next - _count + i + Capacity) % Capacity]!;
            }
        }
        var points = new List<LivePoint>(Math.Max(ordered.Length - 1, 0));
        for (var i = 1; i < ordered.Length; i++)
        {
            points.Add(LivePoint.Between(ordered[i - 1], ordered[i]));
        }
        return points;
    }
}

/// <summary>Takes a snapshot every <see cref="ConsoleOptions.LiveSampleInterval"/> on the service's clock.</summary>
public sealed class LiveSampler(LiveSamples samples, LiveCounters counters, TimeProvider time, Microsoft.Extensions.Options.IOptions<ConsoleOptions> options) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        samples.Add(counters.Read(time.GetUtcNow()));
        using var timer = new PeriodicTimer(options.Value.LiveSampleInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                samples.Add(counters.Read(time.GetUtcNow()));
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
