using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using WxkfManager.Crypto;
using WxkfManager.LoadTest;

// Child mode: the do-nothing ASP.NET Core endpoint that is the ceiling our throughput is compared to.
if (args.Length == 2 && args[0] == "--baseline-server")
{
    var builder = WebApplication.CreateSlimBuilder();
    builder.Logging.ClearProviders();
    builder.WebHost.UseKestrel(options => options.Listen(System.Net.IPAddress.Loopback, int.Parse(args[1], CultureInfo.InvariantCulture)));
    var baseline = builder.Build();
    baseline.MapGet("/ready", () => "ok");
    baseline.MapPost("/callback/{corpId}", () => Results.Text("success"));
    await baseline.RunAsync();
    return 0;
}

var options = LoadOptions.Parse(args);
if (!File.Exists(options.ServiceDll))
{
    Console.Error.WriteLine("--service must name the built WxkfManager.dll (Release)");
    return 2;
}

var work = Directory.CreateTempSubdirectory("wxkf-load-");
await using var fleet = await PuppetFleet.StartAsync();
var servicePort = ChildProcess.FreePort();
await using var service = await ChildProcess.StartAsync([options.ServiceDll], servicePort, new Dictionary<string, string>
{
    ["PORT"] = servicePort.ToString(CultureInfo.InvariantCulture),
    ["DATA_DIR"] = Path.Combine(work.FullName, "data"),
    ["LOG_PATH"] = Path.Combine(work.FullName, "logs"),
    ["Serilog__MinimumLevel__Default"] = "Warning",
    // Every puppet registers from this one address here; in production they come from their own hosts.
    ["Security__ManagementRequestsPerMinute"] = "100000",
    ["ASPNETCORE_ENVIRONMENT"] = "Production",
}, "/ready");

// Puppets spread over corps of 100, each corp with its own app credentials.
var corps = Enumerable.Range(0, Math.Max(1, (options.Puppets + 99) / 100))
    .Select(i => (CorpId: $"wwload{i:D5}", Token: $"token{i}", Key: EncodingAesKey.Generate()))
    .ToArray();
var puppets = Enumerable.Range(0, options.Puppets)
    .Select(i => (KfId: $"wkload{i:D6}", Corp: corps[i / 100]))
    .ToArray();
using (var admin = new HttpClient { BaseAddress = service.BaseAddress })
{
    await Parallel.ForEachAsync(puppets, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (puppet, ct) =>
    {
        var registration = new
        {
            kfId = puppet.KfId, kfName = puppet.KfId, endpoint = $"{fleet.BaseUrl}/p/{puppet.KfId}",
            corpId = puppet.Corp.CorpId, corpSecret = "load-secret", token = puppet.Corp.Token, encodingAESKey = puppet.Corp.Key,
        };
        (await admin.PostAsJsonAsync("/puppetWxkfManager/register", registration, ct)).EnsureSuccessStatusCode();
    });
}

var cryptos = corps.ToDictionary(c => c.CorpId, c => WeComCrypto.Create(c.Token, c.Key));
// Signed "now": the manager refuses timestamps more than five minutes off.
var timestamp = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
List<PreparedRequest> Prepare(int count, string tag)
{
    var prepared = new List<PreparedRequest>(count);
    for (var i = 0; i < count; i++)
    {
        var puppet = puppets[i % puppets.Length];
        var inner = new CallbackEvent(puppet.Corp.CorpId, timestamp, "event", CallbackEvent.KfMessageOrEvent, $"{tag}-{i}", puppet.KfId).ToXml();
        var sealedMessage = cryptos[puppet.Corp.CorpId].Seal(inner, puppet.Corp.CorpId, timestamp, $"{tag}{i}");
        var body = new CallbackEnvelope(puppet.Corp.CorpId, "1000002", sealedMessage.Encrypt).ToXml();
        prepared.Add(new PreparedRequest(
            $"/callback/{puppet.Corp.CorpId}?msg_signature={sealedMessage.Signature}&timestamp={timestamp}&nonce={tag}{i}",
            Encoding.UTF8.GetBytes(body)));
    }
    return prepared;
}

var duration = TimeSpan.FromSeconds(options.Seconds);
var count = options.Rate > 0 ? options.Rate * options.Seconds : 40_000 * options.Seconds / 10 * 3;
var warmup = Prepare(2_000, "warm");
var measured = Prepare(count, "load");

await LoadGenerator.RunAsync(service.BaseAddress, warmup, options.Connections, 0, TimeSpan.FromSeconds(30));
var result = await LoadGenerator.RunAsync(service.BaseAddress, measured, options.Connections, options.Rate, duration);

var expected = warmup.Count + result.Acked;
var waitUntil = DateTime.UtcNow.AddSeconds(60);
while (fleet.Delivered < expected && DateTime.UtcNow < waitUntil)
{
    await Task.Delay(200);
}
var drainedAfter = (DateTime.UtcNow - waitUntil.AddSeconds(-60)).TotalSeconds;
var delivered = fleet.Delivered - warmup.Count;
var peakRss = service.PeakRssMiB();

// The ceiling: the same generator, same requests, against a do-nothing endpoint in its own process.
var baselinePort = ChildProcess.FreePort();
LoadResult ceiling;
await using (var baseline = await ChildProcess.StartAsync(
    [typeof(LoadOptions).Assembly.Location, "--baseline-server", baselinePort.ToString(CultureInfo.InvariantCulture)],
    baselinePort, new Dictionary<string, string>(), "/ready"))
{
    await LoadGenerator.RunAsync(baseline.BaseAddress, warmup, options.Connections, 0, TimeSpan.FromSeconds(30));
    ceiling = await LoadGenerator.RunAsync(baseline.BaseAddress, measured, options.Connections, options.Rate, duration);
}

string F(double value) => value.ToString("F2", CultureInfo.InvariantCulture);
Console.WriteLine($"## {options.Label} puppets={options.Puppets} rate={(options.Rate > 0 ? options.Rate.ToString(CultureInfo.InvariantCulture) : "max")} seconds={options.Seconds} connections={options.Connections}");
Console.WriteLine("| measure | manager (durable queue on) | do-nothing endpoint |");
Console.WriteLine("| --- | --- | --- |");
Console.WriteLine($"| requests answered 2xx | {result.Acked} of {result.Sent} ({result.Failed} failed) | {ceiling.Acked} of {ceiling.Sent} |");
Console.WriteLine($"| answered/s | {F(result.AckedPerSecond)} | {F(ceiling.AckedPerSecond)} |");
Console.WriteLine($"| ack latency p50 / p99 / max (ms) | {F(result.Percentile(50))} / {F(result.Percentile(99))} / {F(result.LatenciesMs.LastOrDefault())} | {F(ceiling.Percentile(50))} / {F(ceiling.Percentile(99))} / {F(ceiling.LatenciesMs.LastOrDefault())} |");
Console.WriteLine($"| throughput ratio (manager / ceiling) | {F(result.AckedPerSecond / ceiling.AckedPerSecond)} | 1.00 |");
Console.WriteLine($"| delivered / acked after the load | {delivered} / {result.Acked} = {F(result.Acked == 0 ? 0 : (double)delivered / result.Acked)} (drained within {F(drainedAfter)} s) | n/a |");
Console.WriteLine($"| delivered events/s (load + drain) | {F(delivered / (result.Seconds + drainedAfter))} | n/a |");
Console.WriteLine($"| service peak RSS (MiB) | {F(peakRss)} | n/a |");
work.Delete(recursive: true);
return delivered >= result.Acked ? 0 : 1;
