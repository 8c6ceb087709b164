using System.Globalization;

namespace WxkfManager.LoadTest;

/// <summary>
/// Issue 9: the service against the do-nothing forwarder and the do-nothing endpoint, each in its own
/// process with the same CPU pinning, the same generator and the same kind of requests: as fast as
/// answered, then at 1,000/s, then at half the forwarder's maximum (or only at --rate N).
/// </summary>
public static class ThroughputScenario
{
    public static async Task<List<PhaseOutcome>> RunAsync(LoadOptions options, CpuPinning pinning, PuppetFleet fleet)
    {
        var corps = Corp.Create(Math.Max(1, (options.Puppets + 99) / 100), "load");
        var puppets = Enumerable.Range(0, options.Puppets)
            .Select(i => new Puppet($"wkload{i:D6}", corps[i / 100], $"{fleet.BaseUrl}/p/wkload{i:D6}"))
            .ToArray();
        var outcomes = new List<PhaseOutcome>();
        var self = typeof(LoadOptions).Assembly.Location;

        // The forwarder first: its maximum sets the "half the forwarder's max" rate for everyone.
        var forwarderPort = ChildProcess.FreePort();
        List<int>? rates = options.Rate > 0 ? [options.Rate] : null;
        await using (var forwarder = await ChildProcess.StartAsync("forwarder", pinning,
            [self, "--forwarder-server", forwarderPort.ToString(CultureInfo.InvariantCulture), fleet.BaseUrl], forwarderPort, new Dictionary<string, string>(), "/ready"))
        {
            await Phase.WarmUpAsync(forwarder, fleet, puppets, options, $"warm{forwarder.Name}");
            foreach (var rate in rates ?? [0])
            {
                outcomes.Add(await Phase.RunAsync("forwarder", forwarder, fleet, puppets, $"fw{rate}x", rate, options));
            }
            if (rates is null)
            {
                var half = (int)Math.Max(1, outcomes[0].Result.AckedPerSecond / 2);
                rates = [0, 1000, half];
                outcomes.Add(await Phase.RunAsync("forwarder", forwarder, fleet, puppets, "fw1000x", 1000, options));
                outcomes.Add(await Phase.RunAsync("forwarder", forwarder, fleet, puppets, $"fw{half}x", half, options));
            }
        }

        await using (var service = await ServiceUnderTest.StartAsync(options, pinning, "service"))
        {
            await service.RegisterAsync(puppets);
            await Task.Delay(TimeSpan.FromSeconds(1)); // Past Registration__ReleaseDelay, which holds a new puppet's first events.
            await Phase.WarmUpAsync(service.Process, fleet, puppets, options, $"warm{service.Process.Name}");
            foreach (var rate in rates)
            {
                outcomes.Add(await Phase.RunAsync("service", service.Process, fleet, puppets, $"sv{rate}x", rate, options));
            }
        }

        var endpointPort = ChildProcess.FreePort();
        await using (var endpoint = await ChildProcess.StartAsync("endpoint", pinning,
            [self, "--baseline-server", endpointPort.ToString(CultureInfo.InvariantCulture)], endpointPort, new Dictionary<string, string>(), "/ready"))
        {
            await Phase.WarmUpAsync(endpoint, null, puppets, options, $"warm{endpoint.Name}");
            foreach (var rate in rates)
            {
                outcomes.Add(await Phase.RunAsync("endpoint", endpoint, null, puppets, $"ep{rate}x", rate, options));
            }
        }
        return outcomes;
    }

    public static void Report(LoadOptions options, CpuPinning pinning, List<PhaseOutcome> outcomes)
    {
        Console.WriteLine($"## Issue 9: service vs do-nothing forwarder vs do-nothing endpoint{(options.Label.Length > 0 ? $" ({options.Label})" : "")}");
        Console.WriteLine();
        Console.WriteLine($"{options.Puppets} puppets, {options.Seconds} s per phase, {options.Connections} connections; {pinning.Description}.");
        Console.WriteLine();
        Console.WriteLine("| server | load | answered/s | answered (failed) | delivered/s sustained | delivered / acked (drain s) | ack p50 / p99 / max ms | peak RSS MiB | server CPU ms/event | of which SQLite threads |");
        Console.WriteLine("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var o in outcomes)
        {
            var r = o.Result;
            var d = o.Delivery;
            var delivered = o.Server == "endpoint" ? "–" : $"{d.Delivered} / {d.Expected} ({Stats.F(d.DrainSeconds)})";
            Console.WriteLine($"| {o.Server} | {o.LoadName} | {Stats.F(r.AckedPerSecond, "F0")}{(o.RanOut ? " (ran out of requests)" : "")} | {r.Acked} ({r.Failed}) | "
                + $"{(o.Server == "endpoint" ? "–" : Stats.F(d.SustainedPerSecond, "F0"))} | {delivered} | "
                + $"{Stats.F(r.Percentile(50))} / {Stats.F(r.Percentile(99))} / {Stats.F(r.Max)} | {Stats.F(o.PeakRssMiB, "F0")} | {Stats.F(o.CpuMsPerEvent, "F3")} | {(o.Server == "service" ? Stats.F(o.StoreCpuMsPerEvent, "F3") : "–")} |");
        }
        Console.WriteLine();
        Console.WriteLine($"Warm-up before the first phase, in rounds of {options.Warmup} requests as fast as answered until the server's CPU per request "
            + "stopped falling by 5% or more (server: requests, CPU ms/request by round):");
        Console.WriteLine();
        foreach (var warmUp in Phase.WarmUps)
        {
            Console.WriteLine($"- {warmUp.Server}: {warmUp.Requests}, {string.Join(" → ", warmUp.CpuMsByRound.Select(c => Stats.F(c, "F3")))}");
        }
        Console.WriteLine();
        Console.WriteLine("Ratios service / forwarder (same load, same run):");
        Console.WriteLine();
        Console.WriteLine("| load | answered/s | delivered/s sustained | ack p50 | ack p99 | peak RSS | CPU per event |");
        Console.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var service in outcomes.Where(o => o.Server == "service"))
        {
            var forwarder = outcomes.FirstOrDefault(o => o.Server == "forwarder" && o.LoadName == service.LoadName);
            if (forwarder is null)
            {
                continue;
            }
            Console.WriteLine($"| {service.LoadName} | {Stats.Ratio(service.Result.AckedPerSecond, forwarder.Result.AckedPerSecond)} | "
                + $"{Stats.Ratio(service.Delivery.SustainedPerSecond, forwarder.Delivery.SustainedPerSecond)} | "
                + $"{Stats.Ratio(service.Result.Percentile(50), forwarder.Result.Percentile(50))} | {Stats.Ratio(service.Result.Percentile(99), forwarder.Result.Percentile(99))} | "
                + $"{Stats.Ratio(service.PeakRssMiB, forwarder.PeakRssMiB)} | {Stats.Ratio(service.CpuMsPerEvent, forwarder.CpuMsPerEvent)} |");
        }
        Console.WriteLine();
        var max = outcomes.FirstOrDefault(o => o.Server == "service" && o.LoadName == "max");
        var fwdMax = outcomes.FirstOrDefault(o => o.Server == "forwarder" && o.LoadName == "max");
        var at1000 = outcomes.FirstOrDefault(o => o.Server == "service" && o.LoadName == "1000/s");
        var atHalf = outcomes.Where(o => o.Server == "service" && o.LoadName is not "max" and not "1000/s").FirstOrDefault();
        Console.WriteLine("Issue 9 targets:");
        Console.WriteLine();
        if (max is not null && fwdMax is not null)
        {
            Console.WriteLine($"- delivered/s sustained ≥ 0.80 × forwarder's: {Stats.Ratio(max.Delivery.SustainedPerSecond, fwdMax.Delivery.SustainedPerSecond)}");
            Console.WriteLine($"- peak RSS ≤ 120 MiB with {options.Puppets} puppets under load: {Stats.F(max.PeakRssMiB, "F0")} MiB");
        }
        if (atHalf is not null)
        {
            Console.WriteLine($"- ack p99 ≤ 5 ms at half the forwarder's max ({atHalf.LoadName}): {Stats.F(atHalf.Result.Percentile(99))} ms");
        }
        if (at1000 is not null)
        {
            Console.WriteLine($"- ack p99 ≤ 3 ms at 1,000/s: {Stats.F(at1000.Result.Percentile(99))} ms");
        }
        Console.WriteLine();
    }
}
