using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace WxkfManager.Tests.Infrastructure;

/// <summary>A fake WeCom API: gettoken that counts its calls, and endpoints that echo what a proxied call carried.</summary>
public sealed class WeComStub : IAsyncDisposable
{
    public static readonly byte[] MediaBytes = Enumerable.Range(0, 70_000).Select(i => (byte)(i * 31 % 256)).ToArray();

    private StubServer _server = null!;
    private int _tokenCalls;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, byte> _revoked = new();

    public int TokenCalls => _tokenCalls;

    private int _redirectedHits;

    /// <summary>Requests that followed /cgi-bin/redirect.</summary>
    public int RedirectedHits => _redirectedHits;

    /// <summary>Lifetime of the tokens gettoken issues, in seconds.</summary>
    public int ExpiresIn { get; set; } = 7200;

    /// <summary>How long gettoken takes, so concurrent callers overlap.</summary>
    public TimeSpan TokenDelay { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>From now on WeCom answers 42001 (expired) for this token.</summary>
    public void Revoke(string accessToken) => _revoked[accessToken] = 0;

    public string TokenUrl => _server.Url("cgi-bin/gettoken");

    public string ApiBase => _server.Url("cgi-bin/");

    public static async Task<WeComStub> StartAsync()
    {
        var stub = new WeComStub();
        stub._server = await StubServer.StartAsync(app =>
        {
            app.MapGet("/cgi-bin/gettoken", async (HttpRequest request) =>
            {
                var call = Interlocked.Increment(ref stub._tokenCalls);
                await Task.Delay(stub.TokenDelay);
                var corpId = request.Query["corpid"].ToString();
                return request.Query["corpsecret"].ToString().StartsWith("right-secret", StringComparison.Ordinal)
                    ? Results.Json(new { errcode = 0, errmsg = "ok", access_token = $"token-{corpId}-{call}", expires_in = stub.ExpiresIn })
                    : Results.Text("{\"errcode\":40001,\"errmsg\":\"invalid credential, hint: [1700000000_1]\"}", "application/json");
            });
            app.MapMethods("/cgi-bin/kf/send_msg", ["GET", "POST"], async (HttpRequest request) =>
            {
                using var reader = new StreamReader(request.Body);
                var body = await reader.ReadToEndAsync();
                var token = request.Query["access_token"].ToString();
                return stub._revoked.ContainsKey(token)
                    ? Results.Json(new { errcode = 42001, errmsg = "access_token expired" })
                    : Results.Json(new { errcode = 0, errmsg = "ok", used = token, body });
            });
            app.MapGet("/cgi-bin/media/get", () => Results.File(MediaBytes, "image/jpeg", "photo.jpg"));
            // A redirect the manager must pass back, not follow: following it would hit /cgi-bin/redirected.
            app.MapGet("/cgi-bin/redirect", () => Results.Redirect(stub._server.Url("cgi-bin/redirected")));
            app.MapGet("/cgi-bin/redirected", () =>
            {
                Interlocked.Increment(ref stub._redirectedHits);
                return Results.Text("followed");
            });
            app.MapGet("/cgi-bin/status/{code:int}", (int code) => Results.Json(new { errcode = code, errmsg = "as asked" }, statusCode: code));
            app.MapMethods("/cgi-bin/{**path}", ["GET", "POST"], async (string path, HttpRequest request) =>
            {
                using var buffer = new MemoryStream();
                await request.Body.CopyToAsync(buffer);
                return Results.Json(new
                {
                    method = request.Method,
                    path,
                    query = request.QueryString.Value,
                    contentType = request.ContentType,
                    length = buffer.Length,
                    sha256 = Convert.ToHexStringLower(SHA256.HashData(buffer.ToArray())),
                });
            });
        });
        return stub;
    }

    public ValueTask DisposeAsync() => _server.DisposeAsync();
}
