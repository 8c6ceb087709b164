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

    public int TokenCalls => _tokenCalls;

    public string TokenUrl => _server.Url("cgi-bin/gettoken");

    public string ApiBase => _server.Url("cgi-bin/");

    public static async Task<WeComStub> StartAsync()
    {
        var stub = new WeComStub();
        stub._server = await StubServer.StartAsync(app =>
        {
            app.MapGet("/cgi-bin/gettoken", (HttpRequest request) =>
            {
                Interlocked.Increment(ref stub._tokenCalls);
                var corpId = request.Query["corpid"].ToString();
                return request.Query["corpsecret"] == "right-secret"
                    ? Results.Json(new { errcode = 0, errmsg = "ok", access_token = "token-for-" + corpId, expires_in = 7200 })
                    : Results.Json(new { errcode = 40001, errmsg = "invalid credential" });
            });
            app.MapGet("/cgi-bin/media/get", () => Results.File(MediaBytes, "image/jpeg", "photo.jpg"));
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
