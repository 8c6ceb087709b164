using System.Diagnostics;

namespace WxkfManager.LoadTest;

/// <summary>How the acknowledged requests of one phase reached the puppet fleet.</summary>
/// <param name="Expected">Acknowledged requests that should arrive.</param>
/// <param name="Delivered">Of those, how many arrived before the wait ended.</param>
/// <param name="SustainedPerSecond">Delivered count / seconds from the load's start to the last arrival (load plus drain).</param>
/// <param name="DrainSeconds">From the end of the load to the last arrival.</param>
/// <param name="LatenciesMs">Arrival minus send, ascending; +∞ for an acknowledged request that never arrived.</param>
/// <param name="PerSecondP99">The p99 of the events sent in each second of the load: whether a phase's p99 comes from all of it or from a stall.</param>
public sealed record DeliveryOutcome(int Expected, int Delivered, double SustainedPerSecond, double DrainSeconds, double[] LatenciesMs,
    double[]? PerSecondP99 = null)
{
    public static readonly DeliveryOutcome None = new(0, 0, double.NaN, double.NaN, []);
}

/// <summary>One load phase against one server: what the generator saw, how delivery went, and the server's cost.</summary>
/// <param name="RanOut">The generator sent every prepared request before the phase's time was up.</param>
/// <param name="StoreCpuMsPerEvent">Of <paramref name="CpuMsPerEvent"/>, what the service's own SQLite threads (writer, checkpoints) used.</param>
public sealed record PhaseOutcome(string Server, string LoadName, LoadResult Result, DeliveryOutcome Delivery, double PeakRssMiB, double CpuMsPerEvent, bool RanOut,
    double StoreCpuMsPerEvent = double.NaN);

/// <summary>How long a server was warmed up, and its CPU per request in each round.</summary>
public sealed record WarmUp(string Server, int Requests, IReadOnlyList<double> CpuMsByRound);

public static class Phase
{
    /// <summary>
    /// Rounds of <see cref="LoadOptions.Warmup"/> requests as fast as answered, until the server's CPU per request stops
    /// falling (under 5% better than its best round so far) or <see cref="LoadOptions.WarmupRounds"/> rounds: .NET's tiered
    /// JIT keeps promoting hot code for a long while on a busy core, and what is measured should be the steady state.
    /// Waits for each round's delivery when there is a fleet to deliver to, then forgets it.
    /// </summary>
    public static async Task<WarmUp> WarmUpAsync(ChildProcess server, PuppetFleet? fleet, IReadOnlyList<Puppet> puppets, LoadOptions options, string label)
    {
        var costs = new List<double>();
        var rounds = Math.Max(1, options.WarmupRounds);
        for (var round = 1; round <= rounds; round++)
        {
            var warmup = ServiceUnderTest.Prepare(ServiceUnderTest.Cycle(puppets, options.Warmup), $"{label}r{round}");
            var cpuBefore = server.CpuSeconds();
            var result = await LoadGenerator.RunAsync(server.BaseAddress, warmup, options.Connections, 0, TimeSpan.FromSeconds(120));
            var cost = result.Acked == 0 ? double.NaN : (server.CpuSeconds() - cpuBefore) * 1000 / result.Acked;
            if (fleet is not null)
            {
                await AwaitDeliveryAsync(fleet, warmup, result, _ => true, DrainLimit(options));
                fleet.Reset();
            }
            var settled = costs.Count > 0 && !(cost < costs.Min() * 0.95);
            costs.Add(cost);
            if (settled)
            {
                break;
            }
        }
        var outcome = new WarmUp(server.Name, costs.Count * options.Warmup, costs);
        Console.Error.WriteLine($"  {server.Name}: warmed up with {outcome.Requests} requests, CPU ms/request by round {string.Join(" → ", costs.Select(c => Stats.F(c, "F3")))}");
        WarmUps.Add(outcome);
        return outcome;
    }

    /// <summary>Every warm-up of this run, for the report.</summary>
    public static List<WarmUp> WarmUps { get; } = [];

    /// <summary>Requests per second prepared for an as-fast-as-answered phase: more than any server here answers on 2 cores.</summary>
    public const int MaxRatePrepared = 40_000;

    public static async Task<PhaseOutcome> RunAsync(string server, ChildProcess process, PuppetFleet? fleet, IReadOnlyList<Puppet> puppets,
        string tag, int rate, LoadOptions options, Func<int, bool>? counted = null)
    {
        var count = (rate > 0 ? rate : MaxRatePrepared) * options.Seconds;
        var requests = ServiceUnderTest.Prepare(ServiceUnderTest.Cycle(puppets, count), tag);
        Console.Error.WriteLine($"  {server}: {(rate > 0 ? $"{rate}/s" : "max")} for {options.Seconds} s ({count} prepared)");
        var cpuBefore = process.CpuSeconds();
        var storeBefore = process.ThreadCpuSeconds(StoreThreads);
        var result = await LoadGenerator.RunAsync(process.BaseAddress, requests, options.Connections, rate, options.Duration);
        var cpu = process.CpuSeconds() - cpuBefore;
        var store = process.ThreadCpuSeconds(StoreThreads) - storeBefore;
        var delivery = fleet is null ? DeliveryOutcome.None : await AwaitDeliveryAsync(fleet, requests, result, counted ?? (_ => true), DrainLimit(options));
        fleet?.Reset();
        var outcome = new PhaseOutcome(server, rate > 0 ? $"{rate}/s" : "max", result, delivery, process.PeakRssMiB(),
            result.Acked == 0 ? double.NaN : cpu * 1000 / result.Acked, result.Sent == requests.Count && result.Seconds < options.Seconds * 0.95,
            result.Acked == 0 ? double.NaN : store * 1000 / result.Acked);
        Console.Error.WriteLine($"    answered {Stats.F(result.AckedPerSecond, "F0")}/s, ack p99 {Stats.F(result.Percentile(99))} ms, delivered {delivery.Delivered}/{delivery.Expected}");
        return outcome;
    }

    /// <summary>The service's SQLite threads (Storage/Sqlite/SqliteWriter.cs): "sqlite-writer" and "sqlite-checkpoint".</summary>
    public const string StoreThreads = "sqlite-";

    public static TimeSpan DrainLimit(LoadOptions options) => TimeSpan.FromSeconds(Math.Max(30, options.Seconds * 3));

    /// <summary>Waits until every acknowledged request that <paramref name="counted"/> selects has arrived, or the limit.</summary>
    public static async Task<DeliveryOutcome> AwaitDeliveryAsync(PuppetFleet fleet, IReadOnlyList<PreparedRequest> requests, LoadResult result,
        Func<int, bool> counted, TimeSpan limit)
    {
        var expected = Enumerable.Range(0, requests.Count).Where(i => result.AckedAt[i] != 0 && counted(i)).ToArray();
        var loadEnded = Stopwatch.GetTimestamp();
        var pending = expected.ToList();
        while (pending.Count > 0 && Stopwatch.GetElapsedTime(loadEnded) < limit)
        {
            pending.RemoveAll(i => fleet.TryGetReceipt(requests[i].Key, out _));
            if (pending.Count > 0)
            {
                await Task.Delay(100);
            }
        }
        var latencies = new double[expected.Length];
        var bySecond = new List<List<double>>();
        long last = 0;
        var delivered = 0;
        for (var n = 0; n < expected.Length; n++)
        {
            var i = expected[n];
            if (fleet.TryGetReceipt(requests[i].Key, out var received))
            {
                delivered++;
                last = Math.Max(last, received);
                latencies[n] = Stopwatch.GetElapsedTime(result.SentAt[i], received).TotalMilliseconds;
            }
            else
            {
                latencies[n] = double.PositiveInfinity;
            }
            var second = (int)Stopwatch.GetElapsedTime(result.Started, result.SentAt[i]).TotalSeconds;
            while (bySecond.Count <= second)
            {
                bySecond.Add([]);
            }
            bySecond[second].Add(latencies[n]);
        }
        var perSecond = bySecond.Select(l => l.Count == 0 ? double.NaN : Stats.Percentile([.. l.Order()], 99)).ToArray();
        Array.Sort(latencies);
        var endOfLoad = result.Started + (long)(result.Seconds * Stopwatch.Frequency);
        return last == 0
            ? new DeliveryOutcome(expected.Length, 0, 0, double.NaN, latencies, perSecond)
            : new DeliveryOutcome(expected.Length, delivered, delivered / Stopwatch.GetElapsedTime(result.Started, last).TotalSeconds,
                Math.Max(0, Stopwatch.GetElapsedTime(endOfLoad, last).TotalSeconds), latencies, perSecond);
    }
}
