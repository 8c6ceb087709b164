using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using WxkfManager.Crypto;

namespace WxkfManager.Tests.Infrastructure;

/// <summary>What a puppet received, after it checked the callback with its own copy of the credentials.</summary>
public sealed record ReceivedCallback(string Path, string Body, string? ContentType, IReadOnlyDictionary<string, string> Query, string? Token);

/// <summary>
/// Stands in for wechaty-puppet-wxkf: serves /p/{name}/callback and /p/{name}/callback/decrypted for any
/// number of puppets, verifies what it gets like the real puppet does, and can be down, slow or failing.
/// </summary>
public sealed class PuppetStub : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, Puppet> _puppets = new();
    private StubServer _server = null!;

    public static async Task<PuppetStub> StartAsync(int port = 0)
    {
        var stub = new PuppetStub();
        stub._server = await StubServer.StartAsync(app =>
        {
            app.MapPost("/p/{name}/callback", (string name, HttpRequest request) => stub.Get(name).HandleAsync(request, decrypted: false));
            app.MapPost("/p/{name}/callback/decrypted", (string name, HttpRequest request) => stub.Get(name).HandleAsync(request, decrypted: true));
        }, port);
        return stub;
    }

    public Puppet Add(string kfId, string corpId, string token, string encodingAesKey, string? name = null)
    {
        name ??= Guid.NewGuid().ToString("N");
        var puppet = new Puppet(_server.Url($"p/{name}"), kfId, corpId, WeComCrypto.Create(token, encodingAesKey));
        _puppets[name] = puppet;
        return puppet;
    }

    private Puppet Get(string name) => _puppets.TryGetValue(name, out var puppet) ? puppet : throw new InvalidOperationException("unknown puppet " + name);

    public ValueTask DisposeAsync() => _server.DisposeAsync();

    public sealed class Puppet(string endpoint, string kfId, string corpId, WeComCrypto crypto)
    {
        private readonly Channel<ReceivedCallback> _received = Channel.CreateUnbounded<ReceivedCallback>();
        private int _failuresLeft;

        public string Endpoint { get; } = endpoint;

        public string KfId { get; } = kfId;

        /// <summary>Every request that reached the puppet, accepted or not.</summary>
        public int Attempts => _attempts;

        private int _attempts;

        /// <summary>Answer the next N requests with 500, as a crashed or restarting puppet behind a proxy would.</summary>
        public void FailNext(int count) => Interlocked.Exchange(ref _failuresLeft, count);

        /// <summary>While set, requests wait for this before being answered.</summary>
        public TaskCompletionSource? Gate { get; set; }

        /// <summary>How long each request takes: a slow puppet.</summary>
        public TimeSpan Delay { get; set; }

        /// <summary>Answer <see cref="FailureStatus"/> to everything, as a puppet stuck failing would.</summary>
        public bool Failing { get; set; }

        /// <summary>What a failing puppet answers: 500 by default, 503 for one behind a proxy while it restarts.</summary>
        public int FailureStatus { get; set; } = 500;

        /// <summary>Callbacks accepted so far.</summary>
        public int Received => _receivedCount;

        /// <summary>The sync token of every callback accepted, duplicates included.</summary>
        public ConcurrentBag<string?> Tokens { get; } = [];

        private int _receivedCount;

        public async Task<ReceivedCallback> NextAsync(TimeSpan? timeout = null)
        {
            using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
            return await _received.Reader.ReadAsync(cts.Token);
        }

        /// <summary>True when nothing arrives within the window (used after a later callback proves the queue moved on).</summary>
        public async Task<bool> NothingArrivesAsync(TimeSpan window)
        {
            using var cts = new CancellationTokenSource(window);
            try
            {
                await _received.Reader.WaitToReadAsync(cts.Token);
                return false;
            }
            catch (OperationCanceledException)
            {
                return true;
            }
        }

        internal async Task<IResult> HandleAsync(HttpRequest request, bool decrypted)
        {
            Interlocked.Increment(ref _attempts);
            if (Gate is { } gate)
            {
                await gate.Task;
            }
            if (Delay > TimeSpan.Zero)
            {
                await Task.Delay(Delay);
            }
            if (Failing || Interlocked.Decrement(ref _failuresLeft) >= 0)
            {
                return Results.Text("restarting", statusCode: FailureStatus);
            }
            using var reader = new StreamReader(request.Body);
            var body = await reader.ReadToEndAsync();
            var query = request.Query.ToDictionary(q => q.Key, q => q.Value.ToString());
            string? token;
            if (decrypted)
            {
                var json = System.Text.Json.JsonDocument.Parse(body).RootElement;
                if (json.GetProperty("openKfId").GetString() != KfId)
                {
                    return Results.Text("kfOpenId not match", statusCode: 500);
                }
                token = json.GetProperty("token").GetString();
            }
            else
            {
                // The checks the real puppet makes: signature, decryption, corp, and that the event is its own.
                var envelope = CallbackEnvelope.TryParse(body);
                if (envelope is null)
                {
                    return Results.Text("bad xml", statusCode: 500);
                }
                var opened = crypto.Open(query.GetValueOrDefault("msg_signature"), query.GetValueOrDefault("timestamp") ?? "",
                    query.GetValueOrDefault("nonce") ?? "", envelope.Encrypt, corpId);
                var kfEvent = CallbackEvent.TryParse(opened.Message);
                if (!opened.IsOk || kfEvent?.OpenKfId != KfId)
                {
                    return Results.Text("signature not match", statusCode: 500);
                }
                token = kfEvent.Token;
            }
            Interlocked.Increment(ref _receivedCount);
            Tokens.Add(token);
            _received.Writer.TryWrite(new ReceivedCallback(request.Path, body, request.ContentType, query, token));
            return Results.Text("success");
        }
    }
}
