using System.Diagnostics;

namespace WxkfManager.LoadTest;

/// <summary>
/// Issue 16, fairness. (1) --puppets healthy puppets (1,000) sent --healthy-rate events/s in total
/// (1,000/s), alone and then beside --broken black-holed puppets (50, each on its own port: they accept
/// connections and never answer) sent --broken-rate events/s each (20/s); the healthy puppets' delivery
/// latency (arrival at the puppet minus the send) each time; between the two, the same load with --broken neighbours that
/// answer, which separates what broken puppets cost from what the extra load costs. The broken run is made twice: first
/// while the black holes turn unreachable (their first attempts time out together, on code paths this process has not run
/// before), then again in the steady state (only their probes go out, their backlog put off in the store); and last the
/// healthy puppets alone again beside the silent broken ones, so anything they leave behind shows. (2) In a fresh service: --held black-holed
/// puppets (40) are sent 10 events each, then one event goes to a healthy puppet: how long until it arrives.
/// </summary>
public static class NoisyScenario
{
    public sealed record Report(PhaseOutcome Alone, PhaseOutcome SameLoad, PhaseOutcome Beside, PhaseOutcome BesideSteady, PhaseOutcome AloneAgain,
        int BrokenConnections, int Held, double LoneSeconds, bool LoneArrived, int BlackHoleConnections);

    public static async Task<Report> RunAsync(LoadOptions options, CpuPinning pinning, PuppetFleet fleet)
    {
        var corps = Corp.Create(Math.Max(1, (options.Puppets + 99) / 100), "noisy");
        var healthy = Enumerable.Range(0, options.Puppets)
            .Select(i => new Puppet($"wkhealthy{i:D6}", corps[i / 100], $"{fleet.BaseUrl}/p/wkhealthy{i:D6}"))
            .ToArray();

        PhaseOutcome alone, sameLoad, beside, besideSteady, aloneAgain;
        int brokenConnections;
        await using (var holes = BlackHoles.Start(options.Broken))
        await using (var service = await ServiceUnderTest.StartAsync(options, pinning, "service"))
        {
            var brokenCorp = Corp.Create(1, "broken")[0];
            var broken = holes.BaseUrls.Select((url, i) => new Puppet($"wkbroken{i:D6}", brokenCorp, url)).ToArray();
            // As many neighbours that answer, for the run that offers the same load without anything broken.
            var answering = Enumerable.Range(0, broken.Length)
                .Select(i => new Puppet($"wkanswers{i:D6}", brokenCorp, $"{fleet.BaseUrl}/p/wkanswers{i:D6}")).ToArray();
            await service.RegisterAsync([.. healthy, .. broken, .. answering]);
            await Task.Delay(TimeSpan.FromSeconds(1)); // Past Registration__ReleaseDelay.
            await Phase.WarmUpAsync(service.Process, fleet, healthy, options, $"nwarm{Stopwatch.GetTimestamp()}");

            alone = await RunMixAsync("healthy alone", service, fleet, healthy, broken, 0, "alone", options);
            sameLoad = await RunMixAsync($"healthy beside {options.Broken} answering", service, fleet, healthy, answering, options.BrokenRate, "same", options);
            beside = await RunMixAsync($"healthy beside {options.Broken} broken, turning unreachable", service, fleet, healthy, broken, options.BrokenRate, "beside", options);
            besideSteady = await RunMixAsync($"healthy beside {options.Broken} broken, steady", service, fleet, healthy, broken, options.BrokenRate, "steady", options);
            aloneAgain = await RunMixAsync($"healthy alone again, {options.Broken} broken silent", service, fleet, healthy, broken, 0, "again", options);
            brokenConnections = holes.Connections;
        }

        // A fresh service, so the first part's broken backlog does not count here.
        double loneSeconds;
        bool arrived;
        int holdConnections;
        await using (var holes = BlackHoles.Start(options.Held))
        await using (var service = await ServiceUnderTest.StartAsync(options, pinning, "service"))
        {
            var heldCorp = Corp.Create(1, "held")[0];
            var held = holes.BaseUrls.Select((url, i) => new Puppet($"wkheld{i:D6}", heldCorp, url)).ToArray();
            await service.RegisterAsync([.. healthy, .. held]);
            await Task.Delay(TimeSpan.FromSeconds(1));
            await Phase.WarmUpAsync(service.Process, fleet, healthy, options, $"nwarm{Stopwatch.GetTimestamp()}");
            Console.Error.WriteLine($"  {held.Length} black holes, 10 events each, then one healthy event");
            var backlog = ServiceUnderTest.Prepare(ServiceUnderTest.Cycle(held, held.Length * 10), "held");
            var heldResult = await LoadGenerator.RunAsync(service.Process.BaseAddress, backlog, options.Connections, 0, TimeSpan.FromSeconds(30));
            var lone = ServiceUnderTest.Prepare([healthy[0]], "lone");
            var loneResult = await LoadGenerator.RunAsync(service.Process.BaseAddress, lone, 1, 0, TimeSpan.FromSeconds(30));
            var delivery = await Phase.AwaitDeliveryAsync(fleet, lone, loneResult, _ => true, TimeSpan.FromSeconds(options.LoneTimeoutSeconds));
            arrived = delivery.Delivered == 1;
            loneSeconds = arrived ? delivery.LatenciesMs[0] / 1000 : options.LoneTimeoutSeconds;
            holdConnections = holes.Connections;
            Console.Error.WriteLine($"    backlog answered {heldResult.Acked}/{backlog.Count}; lone event {(arrived ? $"arrived after {loneSeconds:F2} s" : $"not there after {options.LoneTimeoutSeconds} s")}");
            fleet.Reset();
        }
        return new Report(alone, sameLoad, beside, besideSteady, aloneAgain, brokenConnections, options.Held, loneSeconds, arrived, holdConnections);
    }

    /// <summary>
    /// Healthy events at --healthy-rate in total plus <paramref name="brokenRate"/> per broken puppet, interleaved
    /// evenly, for --seconds; the delivery figures count the healthy events only.
    /// </summary>
    private static async Task<PhaseOutcome> RunMixAsync(string name, ServiceUnderTest service, PuppetFleet fleet, Puppet[] healthy, Puppet[] broken,
        int brokenRate, string tag, LoadOptions options)
    {
        var healthyRate = options.HealthyRate;
        var total = healthyRate + brokenRate * broken.Length;
        var count = total * options.Seconds;
        var targets = new Puppet[count];
        var isHealthy = new bool[count];
        long share = 0;
        int h = 0, b = 0;
        for (var i = 0; i < count; i++)
        {
            share += healthyRate;
            if (share >= total)
            {
                share -= total;
                isHealthy[i] = true;
                targets[i] = healthy[h++ % healthy.Length];
            }
            else
            {
                targets[i] = broken[b++ % broken.Length];
            }
        }
        var requests = ServiceUnderTest.Prepare(targets, tag);
        Console.Error.WriteLine($"  {name}: {total}/s for {options.Seconds} s");
        var cpuBefore = service.Process.CpuSeconds();
        var result = await LoadGenerator.RunAsync(service.Process.BaseAddress, requests, options.Connections, total, options.Duration);
        var cpu = service.Process.CpuSeconds() - cpuBefore;
        var delivery = await Phase.AwaitDeliveryAsync(fleet, requests, result, i => isHealthy[i], Phase.DrainLimit(options));
        fleet.Reset();
        Console.Error.WriteLine($"    healthy delivered {delivery.Delivered}/{delivery.Expected}, p99 {Stats.F(Stats.Percentile(delivery.LatenciesMs, 99))} ms; "
            + $"by the second they were sent: {string.Join(" ", (delivery.PerSecondP99 ?? []).Select(p => Stats.F(p, "F0")))}");
        return new PhaseOutcome(name, $"{total}/s", result, delivery, service.Process.PeakRssMiB(), cpu * 1000 / Math.Max(1, result.Acked), false);
    }

    public static void Print(LoadOptions options, CpuPinning pinning, Report report)
    {
        Console.WriteLine($"## Issue 16: noisy neighbours{(options.Label.Length > 0 ? $" ({options.Label})" : "")}");
        Console.WriteLine();
        Console.WriteLine($"{options.Puppets} healthy puppets at {options.HealthyRate}/s in total, {options.Seconds} s; broken: {options.Broken} black holes "
            + $"(own port each, accept and never answer) at {options.BrokenRate}/s each; {pinning.Description}.");
        Console.WriteLine("Healthy delivery latency = arrival at the puppet fleet − send by the generator (same clock); an event not there "
            + $"{Phase.DrainLimit(options).TotalSeconds:F0} s after the load counts as ∞.");
        Console.WriteLine();
        Console.WriteLine("| run | offered | answered (failed) | ack p99 ms | healthy delivered / acked | healthy delivery p50 / p99 / max ms |");
        Console.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: |");
        foreach (var o in new[] { report.Alone, report.SameLoad, report.Beside, report.BesideSteady, report.AloneAgain })
        {
            var d = o.Delivery;
            Console.WriteLine($"| {o.Server} | {o.LoadName} | {o.Result.Acked} ({o.Result.Failed}) | {Stats.F(o.Result.Percentile(99))} | {d.Delivered} / {d.Expected} | "
                + $"{Stats.F(Stats.Percentile(d.LatenciesMs, 50))} / {Stats.F(Stats.Percentile(d.LatenciesMs, 99))} / {Stats.F(d.LatenciesMs.LastOrDefault(double.NaN))} |");
        }
        Console.WriteLine();
        Console.WriteLine($"Connections the broken puppets accepted: {report.BrokenConnections}.");
        Console.WriteLine();
        Console.WriteLine($"Lone event: {report.Held} black-holed puppets holding {report.Held * 10} events, then one event for a healthy puppet: "
            + (report.LoneArrived ? $"arrived after **{report.LoneSeconds:F2} s**" : $"**not arrived after {options.LoneTimeoutSeconds} s** (--lone-timeout)")
            + $" (the black holes accepted {report.BlackHoleConnections} connections).");
        Console.WriteLine();
        Console.WriteLine("Issue 16 targets:");
        Console.WriteLine();
        var aloneP99 = Stats.Percentile(report.Alone.Delivery.LatenciesMs, 99);
        var sameP99 = Stats.Percentile(report.SameLoad.Delivery.LatenciesMs, 99);
        foreach (var (run, when) in new[] { (report.BesideSteady, "steady"), (report.Beside, "while they turn unreachable") })
        {
            var p99 = Stats.Percentile(run.Delivery.LatenciesMs, 99);
            Console.WriteLine($"- healthy delivery p99 beside the broken ({when}) ≤ 1.5 × alone: {Stats.Ratio(p99, aloneP99)}"
                + $" (× {Stats.Ratio(p99, sameP99)} of the same load with neighbours that answer)");
        }
        Console.WriteLine($"- alone again after them ÷ alone (nothing left behind: ≈ 1): {Stats.Ratio(Stats.Percentile(report.AloneAgain.Delivery.LatenciesMs, 99), aloneP99)}");
        // The control: what the added load costs on this machine before any puppet breaks.
        Console.WriteLine($"- control, the same load with neighbours that answer ÷ alone: {Stats.Ratio(sameP99, aloneP99)}");
        Console.WriteLine($"- lone healthy event beside {report.Held * 10} held events within 2 s: {(report.LoneArrived ? $"{report.LoneSeconds:F2} s" : $"> {options.LoneTimeoutSeconds} s")}");
        Console.WriteLine();
    }
}
