using System.Globalization;

namespace WxkfManager.LoadTest;

/// <summary>
/// Command-line knobs. Defaults are short phases for a shared 2-core machine; lengthen with --seconds.
/// --scenario throughput|fleet|noisy|all, --service path/to/WxkfManager.dll, --service-cpus 0-3,
/// --puppets 1000, --seconds 5, --connections 32, --rate 0 (throughput: 0 runs max, 1,000/s and half the
/// forwarder's max; N runs only N/s), --fleet 100000, --corps 1000, --fleet-budget 300,
/// --broken 50, --broken-rate 20, --healthy-rate 1000, --held 40, --lone-timeout 60, --warmup 20000 (per round), --warmup-rounds 10, --label text.
/// </summary>
public sealed record LoadOptions(
    string Scenario,
    string ServiceDll,
    string? ServiceCpus,
    int Puppets,
    int Rate,
    int Seconds,
    int Connections,
    int FleetSize,
    int Corps,
    int FleetBudgetSeconds,
    int Broken,
    int BrokenRate,
    int HealthyRate,
    int Held,
    int LoneTimeoutSeconds,
    int Warmup,
    int WarmupRounds,
    string Label,
    string LogLevel)
{
    public static readonly string[] Scenarios = ["throughput", "fleet", "noisy", "all"];

    public TimeSpan Duration => TimeSpan.FromSeconds(Seconds);

    public bool Runs(string scenario) => Scenario == "all" || Scenario == scenario;

    public static LoadOptions Parse(string[] args)
    {
        string Get(string name, string fallback)
        {
            var index = Array.IndexOf(args, "--" + name);
            return index >= 0 && index + 1 < args.Length ? args[index + 1] : fallback;
        }
        int Int(string name, int fallback) => int.Parse(Get(name, fallback.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);

        var scenario = Get("scenario", "throughput");
        if (!Scenarios.Contains(scenario))
        {
            throw new ArgumentException($"--scenario must be one of {string.Join('|', Scenarios)}, got {scenario}");
        }
        return new LoadOptions(
            Scenario: scenario,
            ServiceDll: Get("service", ""),
            ServiceCpus: Get("service-cpus", "") is { Length: > 0 } cpus ? cpus : null,
            Puppets: Int("puppets", 1000),
            Rate: Int("rate", 0),
            Seconds: Int("seconds", 5),
            Connections: Int("connections", 32),
            FleetSize: Int("fleet", 100_000),
            Corps: Int("corps", 1000),
            FleetBudgetSeconds: Int("fleet-budget", 300),
            Broken: Int("broken", 50),
            BrokenRate: Int("broken-rate", 20),
            HealthyRate: Int("healthy-rate", 1000),
            Held: Int("held", 40),
            LoneTimeoutSeconds: Int("lone-timeout", 60),
            // Enough for .NET's tiered JIT to reach its optimized code on every server before anything is measured.
            Warmup: Int("warmup", 20_000),
            WarmupRounds: Int("warmup-rounds", 10),
            Label: Get("label", ""),
            LogLevel: Get("log-level", "Warning"));
    }
}
