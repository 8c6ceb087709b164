using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace WxkfManager.LoadTest;

/// <summary>
/// A server in a process of its own (the manager, or a baseline), so its memory and CPU are its own.
/// Every child is killed when this tool exits, however it exits short of SIGKILL: normal end, an
/// exception, Ctrl-C, SIGTERM or SIGHUP (see <see cref="KillAllOnExit"/>).
/// </summary>
public sealed class ChildProcess : IAsyncDisposable
{
    private static readonly ConcurrentDictionary<int, Process> Live = new();
    private static readonly List<PosixSignalRegistration> SignalRegistrations = [];
    // Variables the service would read from the developer's shell and that would change what is measured.
    private static readonly string[] Inherited = ["MONGO_URI", "MANAGER_API_KEY", "MANAGER_OPERATOR_KEY", "MANAGER_ALLOWED_NETWORKS", "SECRETS_ENCRYPTION_KEY"];

    private readonly Process _process;

    private ChildProcess(Process process, Uri baseAddress, string name)
    {
        _process = process;
        BaseAddress = baseAddress;
        Name = name;
    }

    public Uri BaseAddress { get; }

    public string Name { get; }

    public int Id => _process.Id;

    public static void KillAllOnExit()
    {
        AppDomain.CurrentDomain.ProcessExit += (_, _) => KillAll();
        foreach (var signal in new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM, PosixSignal.SIGHUP })
        {
            SignalRegistrations.Add(PosixSignalRegistration.Create(signal, context =>
            {
                Console.Error.WriteLine($"{context.Signal}: stopping {Live.Count} child process(es)");
                KillAll();
                Environment.Exit(128 + context.Signal switch { PosixSignal.SIGINT => 2, PosixSignal.SIGTERM => 15, _ => 1 });
            }));
        }
    }

    private static readonly ConcurrentDictionary<string, byte> Scratch = new();

    /// <summary>A directory a child writes to (the service's data and logs), deleted with it on any exit.</summary>
    public static void DeleteOnExit(DirectoryInfo directory) => Scratch[directory.FullName] = 0;

    public static void KillAll()
    {
        foreach (var process in Live.Values)
        {
            try
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit(TimeSpan.FromSeconds(5));
            }
            catch (InvalidOperationException)
            {
                // Already gone.
            }
        }
        foreach (var directory in Scratch.Keys)
        {
            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Gone already, or still held: it is under the temp directory either way.
            }
        }
    }

    public static int FreePort()
    {
        var listener = new TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    /// <summary>
    /// The runtime settings of the service's Dockerfile, given to every server here alike: on one pinned core .NET
    /// otherwise postpones promoting hot code to optimized code for minutes of load, which would measure the JIT's
    /// warm-up instead of the server.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string> RuntimeSettings = new Dictionary<string, string>
    {
        ["DOTNET_TC_CallCountingDelayMs"] = "0",
    };

    public static async Task<ChildProcess> StartAsync(string name, CpuPinning pinning, IReadOnlyList<string> dotnetArguments, int port,
        IDictionary<string, string> environment, string readyPath)
    {
        var (file, arguments) = pinning.Wrap(dotnetArguments);
        var start = new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var key in Inherited)
        {
            start.Environment.Remove(key);
        }
        foreach (var (key, value) in RuntimeSettings.Concat(environment))
        {
            start.Environment[key] = value;
        }
        var process = Process.Start(start)!;
        Live[process.Id] = process;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) Console.Error.WriteLine($"  {name}: {e.Data}"); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var child = new ChildProcess(process, new Uri($"http://127.0.0.1:{port}/"), name);
        using var client = new HttpClient { BaseAddress = child.BaseAddress, Timeout = TimeSpan.FromSeconds(2) };
        for (var i = 0; i < 300 && !process.HasExited; i++)
        {
            try
            {
                if ((await client.GetAsync(readyPath)).IsSuccessStatusCode)
                {
                    return child;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
            }
            await Task.Delay(200);
        }
        await child.DisposeAsync();
        throw new InvalidOperationException($"{name} did not become ready: {file} {string.Join(' ', arguments)}");
    }

    /// <summary>Peak resident set size (VmHWM) in MiB, from /proc.</summary>
    public double PeakRssMiB() => StatusKiB("VmHWM:") / 1024.0;

    /// <summary>Resident set size now (VmRSS) in MiB.</summary>
    public double RssMiB() => StatusKiB("VmRSS:") / 1024.0;

    /// <summary>User plus system CPU time the process has used so far, in seconds (from /proc/pid/stat).</summary>
    public double CpuSeconds() => CpuSecondsOf(File.ReadAllText($"/proc/{_process.Id}/stat"));

    /// <summary>
    /// CPU seconds used so far by the process's threads whose name starts with <paramref name="prefix"/>
    /// (/proc/pid/task/*/stat; Linux keeps the first 15 characters of a thread's name).
    /// </summary>
    public double ThreadCpuSeconds(string prefix)
    {
        var total = 0.0;
        foreach (var task in Directory.EnumerateDirectories($"/proc/{_process.Id}/task"))
        {
            try
            {
                var stat = File.ReadAllText(Path.Combine(task, "stat"));
                var open = stat.IndexOf('(', StringComparison.Ordinal);
                if (stat[(open + 1)..stat.LastIndexOf(')')].StartsWith(prefix, StringComparison.Ordinal))
                {
                    total += CpuSecondsOf(stat);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // The thread ended while we looked.
            }
        }
        return total;
    }

    private static double CpuSecondsOf(string stat)
    {
        // Fields after the command name, which is in parentheses and may hold spaces: utime is the 14th field, stime the 15th.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return ticks / 100.0; // USER_HZ is 100 on Linux.
    }

    private double StatusKiB(string field)
    {
        var line = File.ReadLines($"/proc/{_process.Id}/status").FirstOrDefault(l => l.StartsWith(field, StringComparison.Ordinal));
        return line is null ? double.NaN : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }
        await _process.WaitForExitAsync();
        Live.TryRemove(_process.Id, out _);
        _process.Dispose();
    }
}
