using WxkfManager.LoadTest;

// Child modes: the baselines, each a process of its own (see Baselines).
if (Baselines.IsChildMode(args))
{
    await Baselines.RunChildAsync(args);
    return 0;
}

LoadOptions options;
try
{
    options = LoadOptions.Parse(args);
}
catch (Exception e) when (e is ArgumentException or FormatException)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}
if (!File.Exists(options.ServiceDll))
{
    Console.Error.WriteLine("--service must name the built WxkfManager.dll (Release)");
    return 2;
}

ChildProcess.KillAllOnExit();
try
{
    var pinning = CpuPinning.Apply(options.ServiceCpus);
    Console.Error.WriteLine($"load test: scenario {options.Scenario}; {pinning.Description}");
    await using var fleet = await PuppetFleet.StartAsync();

    Console.WriteLine($"# WxkfManager load test, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores available, .NET {Environment.Version}");
    Console.WriteLine();
    // Other work on the machine moves every absolute figure: the load average says how much there was.
    Console.WriteLine($"Load average at the start: {LoadAverage()}.");
    Console.WriteLine();
    var complete = true;
    if (options.Runs("throughput"))
    {
        var outcomes = await ThroughputScenario.RunAsync(options, pinning, fleet);
        ThroughputScenario.Report(options, pinning, outcomes);
        complete &= outcomes.Where(o => o.Server != "endpoint").All(o => o.Delivery.Delivered == o.Delivery.Expected);
    }
    if (options.Runs("fleet"))
    {
        var report = await FleetScenario.RunAsync(options, pinning, fleet);
        FleetScenario.Print(options, pinning, report);
        complete &= !report.OutOfBudget;
    }
    if (options.Runs("noisy"))
    {
        var report = await NoisyScenario.RunAsync(options, pinning, fleet);
        NoisyScenario.Print(options, pinning, report);
    }
    Console.WriteLine($"Load average at the end: {LoadAverage()}.");
    // Non-zero when an acknowledged event was not delivered or the fleet did not fit its budget: worth a look.
    return complete ? 0 : 1;
}
catch (Exception e) when (e is InvalidOperationException or HttpRequestException or ArgumentException or IOException)
{
    Console.Error.WriteLine("load test failed: " + e.Message);
    return 3;
}
finally
{
    ChildProcess.KillAll();
}

static string LoadAverage() =>
    File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) + " (1, 5, 15 min)" : "unknown";
