using System.Collections.Concurrent;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace WxkfManager.LoadTest;

/// <summary>
/// Serves any number of puppets at /p/{n}/callback on one port and counts distinct deliveries
/// (by msg_signature, which is unique per generated callback). It does no crypto of its own, so it
/// takes as little of the shared CPU as possible.
/// </summary>
public sealed class PuppetFleet : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, byte> _delivered = new();
    private WebApplication _app = null!;

    public string BaseUrl { get; private set; } = "";

    public int Delivered => _delivered.Count;

    public static async Task<PuppetFleet> StartAsync()
    {
        var fleet = new PuppetFleet();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(options => options.Listen(System.Net.IPAddress.Loopback, 0));
        var app = builder.Build();
        app.MapPost("/p/{n}/callback", (HttpRequest request) =>
        {
            fleet._delivered.TryAdd(request.Query["msg_signature"].ToString(), 0);
            return Results.Text("success");
        });
        await app.StartAsync();
        fleet._app = app;
        fleet.BaseUrl = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return fleet;
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
