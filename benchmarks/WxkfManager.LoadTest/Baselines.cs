using System.Globalization;

namespace WxkfManager.LoadTest;

/// <summary>
/// The two baselines the service is measured against, each run as a child process of this tool
/// (<c>--baseline-server PORT</c>, <c>--forwarder-server PORT FLEET_URL</c>) so its memory and CPU
/// pinning compare with the service's.
/// </summary>
public static class Baselines
{
    public static bool IsChildMode(string[] args) => args.Length >= 2 && args[0] is "--baseline-server" or "--forwarder-server";

    public static async Task RunChildAsync(string[] args)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(options => options.Listen(System.Net.IPAddress.Loopback, int.Parse(args[1], CultureInfo.InvariantCulture)));
        var app = builder.Build();
        app.MapGet("/ready", () => "ok");
        if (args[0] == "--baseline-server")
        {
            // The do-nothing endpoint: the ceiling of answering alone.
            app.MapPost("/callback/{corpId}", () => Results.Text("success"));
        }
        else
        {
            MapForwarder(app, args[2].TrimEnd('/'));
        }
        await app.RunAsync();
    }

    /// <summary>
    /// The do-nothing forwarder, the physical limit of the service's job: one HTTP request in, one out.
    /// It answers <c>success</c>, then posts the body unchanged to the puppet fleet through one shared
    /// HttpClient (32 connections, like the service's 32 delivery slots); no crypto, no store, no retries.
    /// </summary>
    private static void MapForwarder(WebApplication app, string fleetUrl)
    {
        var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 32, PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
        {
            Timeout = TimeSpan.FromSeconds(5),
        };
        app.MapPost("/callback/{corpId}", async (string corpId, HttpContext context) =>
        {
            using var buffer = new MemoryStream();
            await context.Request.Body.CopyToAsync(buffer, context.RequestAborted);
            var body = buffer.ToArray();
            var target = $"{fleetUrl}/p/{corpId}/callback{context.Request.QueryString}";
            context.Response.OnCompleted(() =>
            {
                _ = ForwardAsync(client, target, body);
                return Task.CompletedTask;
            });
            return Results.Text("success");
        });
    }

    private static async Task ForwardAsync(HttpClient client, string target, byte[] body)
    {
        try
        {
            using var content = new ByteArrayContent(body);
            content.Headers.TryAddWithoutValidation("Content-Type", "text/xml");
            using var response = await client.PostAsync(target, content);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            // A lost forward shows as undelivered in the report; the baseline does not retry.
        }
    }
}
