using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using WxkfManager.Crypto;

namespace WxkfManager.LoadTest;

public sealed class Corp(string corpId, string token, string key)
{
    public string CorpId { get; } = corpId;
    public string Token { get; } = token;
    public string Key { get; } = key;
    public WeComCrypto Crypto { get; } = WeComCrypto.Create(token, key);

    public static Corp[] Create(int count, string prefix) =>
        [.. Enumerable.Range(0, count).Select(i => new Corp($"ww{prefix}{i:D5}", $"token{i}", EncodingAesKey.Generate()))];
}

public sealed record Puppet(string KfId, Corp Corp, string Endpoint);

/// <summary>
/// The manager as its own process on the embedded SQLite store (durable queue on), in a fresh data
/// directory, logs at Warning, with a generated puppet key (MANAGER_API_KEY) that registrations carry,
/// and the management rate limit raised because every puppet registers from this one address.
/// </summary>
public sealed class ServiceUnderTest : IAsyncDisposable
{
    private readonly DirectoryInfo _work;

    private ServiceUnderTest(ChildProcess process, DirectoryInfo work, string apiKey)
    {
        Process = process;
        _work = work;
        Admin = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64, ConnectCallback = ConnectFromManyAddressesAsync })
        {
            BaseAddress = process.BaseAddress,
            Timeout = TimeSpan.FromSeconds(30),
        };
        Admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
    }

    public ChildProcess Process { get; }

    private static int _nextSource;

    /// <summary>
    /// Each management connection comes from another loopback address (127.0.0.2 to 127.0.0.251), as puppets
    /// come from their own hosts in production: the per-address management rate limit (at most 100,000 a
    /// minute) would otherwise be what a 100,000-puppet registration measures.
    /// </summary>
    private static async ValueTask<Stream> ConnectFromManyAddressesAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp) { NoDelay = true };
        try
        {
            var source = 2 + (int)((uint)Interlocked.Increment(ref _nextSource) % 250);
            socket.Bind(new System.Net.IPEndPoint(new System.Net.IPAddress([127, 0, 0, (byte)source]), 0));
            await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
            return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public HttpClient Admin { get; }

    public static async Task<ServiceUnderTest> StartAsync(LoadOptions options, CpuPinning pinning, string name)
    {
        var work = Directory.CreateTempSubdirectory("wxkf-load-");
        ChildProcess.DeleteOnExit(work);
        var apiKey = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
        var port = ChildProcess.FreePort();
        try
        {
            var process = await ChildProcess.StartAsync(name, pinning, [options.ServiceDll], port, new Dictionary<string, string>
            {
                ["PORT"] = port.ToString(CultureInfo.InvariantCulture),
                ["DATA_DIR"] = Path.Combine(work.FullName, "data"),
                ["LOG_PATH"] = Path.Combine(work.FullName, "logs"),
                // Warning by default, so the figures are the queue's; --log-level Information is what a default deployment writes.
                ["Serilog__MinimumLevel__Default"] = options.LogLevel,
                ["MANAGER_API_KEY"] = apiKey,
                ["Security__ManagementRequestsPerMinute"] = "100000", // the largest it takes; registrations also spread over source addresses
                ["ASPNETCORE_ENVIRONMENT"] = "Production",
            }, "/ready");
            return new ServiceUnderTest(process, work, apiKey);
        }
        catch
        {
            work.Delete(recursive: true);
            throw;
        }
    }

    /// <summary>Registers puppets through the REST API, 16 at a time; returns the seconds it took.</summary>
    public async Task<double> RegisterAsync(IEnumerable<Puppet> puppets, int parallelism = 16)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        await Parallel.ForEachAsync(puppets, new ParallelOptions { MaxDegreeOfParallelism = parallelism }, async (puppet, ct) =>
        {
            var registration = new
            {
                kfId = puppet.KfId, kfName = puppet.KfId, endpoint = puppet.Endpoint,
                corpId = puppet.Corp.CorpId, corpSecret = "load-secret", token = puppet.Corp.Token, encodingAESKey = puppet.Corp.Key,
            };
            using var response = await Admin.PostAsJsonAsync("/puppetWxkfManager/register", registration, ct);
            if (!response.IsSuccessStatusCode)
            {
                throw new InvalidOperationException($"registering {puppet.KfId}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(ct)}");
            }
        });
        return System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds;
    }

    /// <summary>
    /// Validly signed and encrypted kf_msg_or_event callbacks, one per entry of <paramref name="targets"/>,
    /// each with its own sync token and nonce (so none is a resend of another), signed with "now":
    /// the manager refuses timestamps more than five minutes off, so prepare right before sending.
    /// </summary>
    public static List<PreparedRequest> Prepare(IReadOnlyList<Puppet> targets, string tag)
    {
        var timestamp = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var prepared = new List<PreparedRequest>(targets.Count);
        for (var i = 0; i < targets.Count; i++)
        {
            var puppet = targets[i];
            var corpId = puppet.Corp.CorpId;
            var inner = new CallbackEvent(corpId, timestamp, "event", CallbackEvent.KfMessageOrEvent, $"{tag}-{i}", puppet.KfId).ToXml();
            var sealedMessage = puppet.Corp.Crypto.Seal(inner, corpId, timestamp, $"{tag}{i}");
            var body = new CallbackEnvelope(corpId, "1000002", sealedMessage.Encrypt).ToXml();
            prepared.Add(new PreparedRequest(
                $"/callback/{corpId}?msg_signature={sealedMessage.Signature}&timestamp={timestamp}&nonce={tag}{i}",
                Encoding.UTF8.GetBytes(body), sealedMessage.Signature));
        }
        return prepared;
    }

    /// <summary><paramref name="count"/> targets cycling through <paramref name="puppets"/>.</summary>
    public static Puppet[] Cycle(IReadOnlyList<Puppet> puppets, int count) => [.. Enumerable.Range(0, count).Select(i => puppets[i % puppets.Count])];

    public async ValueTask DisposeAsync()
    {
        Admin.Dispose();
        await Process.DisposeAsync();
        _work.Delete(recursive: true);
    }
}
