using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace WxkfManager.LoadTest;

/// <summary>
/// Serves any number of puppets at /p/{n}/callback on one port and records when each distinct callback
/// first arrived (by msg_signature, unique per generated callback; a Stopwatch timestamp, comparable
/// with the generator's send times). It does no crypto of its own, so it takes as little of the shared
/// CPU as possible.
/// </summary>
public sealed class PuppetFleet : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, long> _received = new(StringComparer.Ordinal);
    private WebApplication _app = null!;

    public string BaseUrl { get; private set; } = "";

    public int Delivered => _received.Count;

    public bool TryGetReceipt(string key, out long timestamp) => _received.TryGetValue(key, out timestamp);

    /// <summary>Forgets what arrived, between phases (keys of one phase are never reused in another anyway).</summary>
    public void Reset() => _received.Clear();

    public static async Task<PuppetFleet> StartAsync()
    {
        var fleet = new PuppetFleet();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        // Signals belong to the tool (ChildProcess.KillAllOnExit), not to this in-process host: its console
        // lifetime would take Ctrl-C as "stop the fleet" and block the tool's exit until the host is disposed.
        builder.Services.AddSingleton<IHostLifetime, NoSignalLifetime>();
        builder.WebHost.UseKestrel(options => options.Listen(System.Net.IPAddress.Loopback, 0));
        var app = builder.Build();
        app.MapPost("/p/{n}/callback", (HttpRequest request) =>
        {
            fleet._received.TryAdd(request.Query["msg_signature"].ToString(), Stopwatch.GetTimestamp());
            return Results.Text("success");
        });
        await app.StartAsync();
        fleet._app = app;
        fleet.BaseUrl = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return fleet;
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}

internal sealed class NoSignalLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
