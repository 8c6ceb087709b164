using System.Diagnostics;

namespace WxkfManager.LoadTest;

/// <summary>
/// Issue 16, the fleet: registers --fleet puppets (100,000) over --corps corps (1,000) through the REST
/// API, timing each block of 10,000; measures the load (as fast as answered) against --puppets of them
/// (1,000, one per corp) with only those registered and again with the whole fleet registered.
/// Every endpoint is a path on the puppet fleet's stub, so a registration costs no connection anywhere
/// (registering does not probe endpoints; only an ambiguous deregister does, and nothing deregisters here).
/// </summary>
public static class FleetScenario
{
    public const int Block = 10_000;

    public sealed record Report(int Registered, int Wanted, List<(int Upto, double PerSecond)> Blocks, double RssMiB, double PeakRssMiB,
        PhaseOutcome Small, PhaseOutcome? Large, bool OutOfBudget);

    public static async Task<Report> RunAsync(LoadOptions options, CpuPinning pinning, PuppetFleet fleet)
    {
        var corps = Corp.Create(options.Corps, "fleet");
        // Puppet j is in corp j % corps, so the first --puppets registered (the load's targets) span every corp.
        Puppet PuppetAt(int j) => new($"wkfleet{j:D7}", corps[j % corps.Length], $"{fleet.BaseUrl}/p/wkfleet{j:D7}");
        var targets = Enumerable.Range(0, Math.Min(options.Puppets, options.FleetSize)).Select(PuppetAt).ToArray();

        await using var service = await ServiceUnderTest.StartAsync(options, pinning, "service");
        var blocks = new List<(int, double)>();
        var blockSeconds = 0.0;
        var registered = 0;
        var budget = Stopwatch.StartNew();

        async Task RegisterUpToAsync(int upto)
        {
            while (registered < upto && budget.Elapsed.TotalSeconds < options.FleetBudgetSeconds)
            {
                // Chunks of 1,000, so the budget is checked often; blocks of 10,000 are timed across chunks.
                var end = Math.Min(upto, (registered / 1000 + 1) * 1000);
                var from = registered;
                blockSeconds += await service.RegisterAsync(Enumerable.Range(from, end - from).Select(PuppetAt));
                registered = end;
                if (registered % Block == 0 || registered == options.FleetSize)
                {
                    var size = registered - (registered - 1) / Block * Block;
                    blocks.Add((registered, size / blockSeconds));
                    Console.Error.WriteLine($"  registered {registered}: {size / blockSeconds:F0}/s for the last {size}, RSS {service.Process.RssMiB():F0} MiB");
                    blockSeconds = 0;
                }
            }
        }

        await RegisterUpToAsync(targets.Length);
        await Task.Delay(TimeSpan.FromSeconds(1)); // Past Registration__ReleaseDelay.
        await Phase.WarmUpAsync(service.Process, fleet, targets, options, "fwarm");
        var small = await Phase.RunAsync($"service, {registered} registered", service.Process, fleet, targets, "fsmall", 0, options);

        await RegisterUpToAsync(options.FleetSize);
        var rss = service.Process.RssMiB();
        var peak = service.Process.PeakRssMiB();
        PhaseOutcome? large = null;
        if (registered > targets.Length)
        {
            await Task.Delay(TimeSpan.FromSeconds(1));
            large = await Phase.RunAsync($"service, {registered} registered", service.Process, fleet, targets, "flarge", 0, options);
        }
        return new Report(registered, options.FleetSize, blocks, rss, peak, small, large, registered < options.FleetSize);
    }

    public static void Print(LoadOptions options, CpuPinning pinning, Report report)
    {
        Console.WriteLine($"## Issue 16: a fleet of {Stats.N(report.Wanted)} puppets over {Stats.N(options.Corps)} corps{(options.Label.Length > 0 ? $" ({options.Label})" : "")}");
        Console.WriteLine();
        Console.WriteLine($"{pinning.Description}; registrations 16 at a time through POST /puppetWxkfManager/register.");
        if (report.OutOfBudget)
        {
            Console.WriteLine($"**Stopped at {Stats.N(report.Registered)} registered: the --fleet-budget of {options.FleetBudgetSeconds} s ran out.**");
        }
        Console.WriteLine();
        Console.WriteLine("| registered up to | registrations/s in that block |");
        Console.WriteLine("| ---: | ---: |");
        foreach (var (upto, perSecond) in report.Blocks)
        {
            Console.WriteLine($"| {Stats.N(upto)} | {Stats.F(perSecond, "F0")} |");
        }
        Console.WriteLine();
        Console.WriteLine($"Service RSS after registering {Stats.N(report.Registered)}: {Stats.F(report.RssMiB, "F0")} MiB (peak so far {Stats.F(report.PeakRssMiB, "F0")} MiB).");
        Console.WriteLine();
        Console.WriteLine($"Load as fast as answered for {options.Seconds} s against {Stats.N(Math.Min(options.Puppets, report.Wanted))} of the puppets, spread over the corps (puppet j is in corp j mod {options.Corps}); both runs in the same service process:");
        Console.WriteLine();
        Console.WriteLine("| registered | answered/s | ack p50 / p99 / max ms | delivered / acked | peak RSS MiB |");
        Console.WriteLine("| --- | ---: | ---: | ---: | ---: |");
        foreach (var o in new[] { report.Small, report.Large }.OfType<PhaseOutcome>())
        {
            var r = o.Result;
            Console.WriteLine($"| {o.Server} | {Stats.F(r.AckedPerSecond, "F0")} | {Stats.F(r.Percentile(50))} / {Stats.F(r.Percentile(99))} / {Stats.F(r.Max)} | "
                + $"{o.Delivery.Delivered} / {o.Delivery.Expected} | {Stats.F(o.PeakRssMiB, "F0")} |");
        }
        Console.WriteLine();
        Console.WriteLine("Issue 16 targets:");
        Console.WriteLine();
        if (report.Blocks.Count >= 2)
        {
            Console.WriteLine($"- registrations/s of the last block within 20% of the first: {Stats.Ratio(report.Blocks[^1].PerSecond, report.Blocks[0].PerSecond)} (last / first)");
        }
        if (report.Large is not null)
        {
            Console.WriteLine($"- answered/s with {Stats.N(report.Registered)} registered ≥ 0.9 × with {Stats.N(Math.Min(options.Puppets, report.Wanted))}: "
                + $"{Stats.Ratio(report.Large.Result.AckedPerSecond, report.Small.Result.AckedPerSecond)} (ack p99 ratio {Stats.Ratio(report.Large.Result.Percentile(99), report.Small.Result.Percentile(99))})");
        }
        Console.WriteLine($"- RSS with {Stats.N(report.Registered)} registered ≤ 300 MiB: {Stats.F(report.RssMiB, "F0")} MiB");
        Console.WriteLine();
    }
}
