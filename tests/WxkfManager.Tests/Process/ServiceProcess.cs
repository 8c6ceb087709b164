using System.Diagnostics;

namespace WxkfManager.Tests.Process;

/// <summary>The built service as a real OS process, as an operator runs it, so it can be killed outright.</summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    private readonly System.Diagnostics.Process _process;

    private ServiceProcess(System.Diagnostics.Process process, Uri baseAddress)
    {
        _process = process;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }

    /// <summary>Everything the process wrote to stdout and stderr so far, as lines (split at CR, LF or CRLF, as a terminal or log collector would).</summary>
    public System.Collections.Concurrent.ConcurrentQueue<string> Output { get; } = new();

    public IReadOnlyCollection<string> OutputLines => Output;

    /// <summary>Runs the service with these settings until it exits by itself (a start-up failure): its exit code and output.</summary>
    public static async Task<(int ExitCode, string Output)> RunToExitAsync(string dataDirectory, IDictionary<string, string> environment, TimeSpan timeout)
    {
        var start = StartInfo(dataDirectory, environment, Infrastructure.StubServer.FreePort());
        using var process = System.Diagnostics.Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
        return (process.ExitCode, await stdout + await stderr);
    }

    public static async Task<ServiceProcess> StartAsync(string dataDirectory, IDictionary<string, string> environment, CancellationToken cancellationToken,
        string readyPath = "/ready", int? port = null)
    {
        port ??= Infrastructure.StubServer.FreePort();
        var start = StartInfo(dataDirectory, environment, port.Value);
        var process = System.Diagnostics.Process.Start(start)!;
        var service = new ServiceProcess(process, new Uri($"http://127.0.0.1:{port}/"));
        process.OutputDataReceived += (_, line) => { if (line.Data is not null) service.Output.Enqueue(line.Data); };
        process.ErrorDataReceived += (_, line) => { if (line.Data is not null) service.Output.Enqueue(line.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        try
        {
            await WaitUntilReadyAsync(service, process, readyPath, cancellationToken);
            return service;
        }
        catch
        {
            // Never leave the process running behind a failed start (a cancelled test included).
            await service.DisposeAsync();
            throw;
        }
    }

    private static async Task WaitUntilReadyAsync(ServiceProcess service, System.Diagnostics.Process process, string readyPath, CancellationToken cancellationToken)
    {
        using var client = new HttpClient { BaseAddress = service.BaseAddress, Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline && !process.HasExited)
        {
            try
            {
                if ((await client.GetAsync(readyPath, cancellationToken)).IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // A first answer slower than the poll's timeout (a loaded machine, JIT): ask again.
            }
            await Task.Delay(200, cancellationToken);
        }
        throw new InvalidOperationException("the service process did not become ready: " + string.Join("\n", service.Output));
    }

    private static ProcessStartInfo StartInfo(string dataDirectory, IDictionary<string, string> environment, int port)
    {
        var start = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "WxkfManager.dll")])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = dataDirectory,
        };
        start.Environment["PORT"] = port.ToString();
        start.Environment["DATA_DIR"] = Path.Combine(dataDirectory, "data");
        start.Environment["LOG_PATH"] = Path.Combine(dataDirectory, "logs");
        start.Environment["ASPNETCORE_URLS"] = "";
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }
        return start;
    }

    /// <summary>SIGTERM, as an orchestrator stopping the container sends; returns the exit code.</summary>
    public async Task<int> TerminateAsync(TimeSpan timeout)
    {
        using (var kill = System.Diagnostics.Process.Start("kill", ["-TERM", _process.Id.ToString()]))
        {
            await kill.WaitForExitAsync();
        }
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
        return _process.ExitCode;
    }

    /// <summary>SIGKILL: no shutdown hooks, no flushing, as a crash or an OOM kill.</summary>
    public void KillHard() => _process.Kill(entireProcessTree: true);

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }
        await _process.WaitForExitAsync();
        _process.Dispose();
    }
}
