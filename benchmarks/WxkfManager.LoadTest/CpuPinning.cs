using System.Diagnostics;
using System.Globalization;

namespace WxkfManager.LoadTest;

/// <summary>
/// Keeps the server under test on its own cores (<c>--service-cpus 0-3</c>) and this process, the load
/// generator and the puppet fleet, on the others, so the generator does not take the server's CPU.
/// Uses taskset (util-linux); without it, or without the flag, nothing is pinned and the report says so.
/// </summary>
public sealed class CpuPinning
{
    private static readonly string[] TasksetPaths = ["/usr/bin/taskset", "/bin/taskset"];

    private CpuPinning(string? serviceCpus, string? generatorCpus, string description)
    {
        ServiceCpus = serviceCpus;
        GeneratorCpus = generatorCpus;
        Description = description;
    }

    public string? ServiceCpus { get; }

    public string? GeneratorCpus { get; }

    public string Description { get; }

    public static CpuPinning Apply(string? serviceCpus)
    {
        if (serviceCpus is null)
        {
            return new CpuPinning(null, null, $"not pinned (all {Environment.ProcessorCount} cores shared by the server and the generator)");
        }
        var taskset = TasksetPaths.FirstOrDefault(File.Exists);
        if (taskset is null)
        {
            return new CpuPinning(null, null, "not pinned: taskset not found (install util-linux)");
        }
        var service = ParseList(serviceCpus);
        var allowed = ParseList(File.ReadLines("/proc/self/status")
            .First(l => l.StartsWith("Cpus_allowed_list:", StringComparison.Ordinal)).Split(':')[1].Trim());
        if (!service.IsSubsetOf(allowed))
        {
            throw new ArgumentException($"--service-cpus {serviceCpus} names cores this process may not use ({FormatList(allowed)})");
        }
        var rest = allowed.Except(service).ToHashSet();
        string? generator = null;
        if (rest.Count > 0)
        {
            generator = FormatList(rest);
            // -a: every thread this runtime has started so far; threads started later inherit the mask.
            Run(taskset, "-a", "-p", "-c", generator, Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        }
        return new CpuPinning(FormatList(service), generator,
            $"server on cores {FormatList(service)}, generator and puppet fleet on {generator ?? "the same cores (no others left)"}");
    }

    /// <summary>The command that starts a server under test: dotnet, behind taskset when pinned (taskset execs, so the pid is the server's).</summary>
    public (string File, IReadOnlyList<string> Arguments) Wrap(IReadOnlyList<string> dotnetArguments) =>
        ServiceCpus is null
            ? ("dotnet", dotnetArguments)
            : ("taskset", ["-c", ServiceCpus, "dotnet", .. dotnetArguments]);

    internal static HashSet<int> ParseList(string list)
    {
        var cpus = new HashSet<int>();
        foreach (var part in list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var bounds = part.Split('-');
            var first = int.Parse(bounds[0], CultureInfo.InvariantCulture);
            var last = bounds.Length > 1 ? int.Parse(bounds[1], CultureInfo.InvariantCulture) : first;
            for (var cpu = first; cpu <= last; cpu++)
            {
                cpus.Add(cpu);
            }
        }
        return cpus;
    }

    private static string FormatList(IEnumerable<int> cpus) => string.Join(',', cpus.Order());

    private static void Run(string file, params string[] arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true })!;
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} failed with {process.ExitCode}");
        }
    }
}
