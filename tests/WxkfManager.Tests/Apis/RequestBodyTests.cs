using System.Text;
using Microsoft.AspNetCore.Http;
using WxkfManager.Apis;

namespace WxkfManager.Tests.Apis;

/// <summary>The one body reader: too large is 413, malformed is 400, and the callbacks' metric reason follows.</summary>
public sealed class RequestBodyTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private sealed record Sample(string? Name);

    private static HttpRequest Request(byte[] body, bool announceLength = true)
    {
        var context = new DefaultHttpContext();
        context.Request.Body = new MemoryStream(body);
        context.Request.ContentLength = announceLength ? body.Length : null;
        return context.Request;
    }

    private static HttpRequest Request(string body, bool announceLength = true) => Request(Encoding.UTF8.GetBytes(body), announceLength);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ABodyOverTheCap_IsTooLarge_WhetherItsLengthWasAnnouncedOrNot(bool announceLength)
    {
        var read = await RequestBody.ReadTextAsync(Request(new string('x', 101), announceLength), 100, Ct);

        Assert.False(read.IsRead);
        Assert.Equal(StatusCodes.Status413PayloadTooLarge, read.Problem.StatusCode);
        Assert.Equal("too_large", read.Problem.MetricReason);
        Assert.Equal("body is larger than 100 bytes", read.Problem.Message);
    }

    [Theory]
    [InlineData("", "body must be a JSON object")]
    [InlineData("null", "body must be a JSON object")]
    [InlineData("{\"name\": 5}", "body is not a valid JSON object for this endpoint at $.name: string fields expected")]
    public async Task MalformedJson_IsABadBody(string body, string message)
    {
        var read = await RequestBody.ReadJsonAsync<Sample>(Request(body), Ct);

        Assert.False(read.IsRead);
        Assert.Equal(StatusCodes.Status400BadRequest, read.Problem.StatusCode);
        Assert.Equal("bad_body", read.Problem.MetricReason);
        Assert.Equal(message, read.Problem.Message);
    }

    [Fact]
    public async Task BytesThatAreNotUtf8_AreABadBody()
    {
        var read = await RequestBody.ReadTextAsync(Request([0xC3, 0x28]), 100, Ct);

        Assert.Equal(StatusCodes.Status400BadRequest, read.Problem!.StatusCode);
        Assert.Equal("body is not valid UTF-8", read.Problem.Message);
    }

    /// <summary>A body that arrives a few bytes at a time, as over a slow connection.</summary>
    private sealed class Trickle(byte[] body) : MemoryStream(body)
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer[..Math.Min(buffer.Length, 7)], cancellationToken);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ABodyLongerThanOneBuffer_ArrivingInPieces_IsReadWhole_UpToExactlyTheCap(bool announceLength)
    {
        // Multi-byte characters, so pieces split them; longer than the first buffer when no length is announced.
        var text = string.Concat(Enumerable.Repeat("微信客服 callback ", 1500));
        var bytes = Encoding.UTF8.GetBytes(text);
        var context = new DefaultHttpContext();
        context.Request.Body = new Trickle(bytes);
        context.Request.ContentLength = announceLength ? bytes.Length : null;

        var read = await RequestBody.ReadTextAsync(context.Request, bytes.Length, Ct);

        Assert.True(read.IsRead);
        Assert.Equal(text, read.Value);
    }

    [Fact]
    public async Task AWellFormedBody_IsRead()
    {
        var read = await RequestBody.ReadJsonAsync<Sample>(Request("{\"name\":\"kf\"}"), Ct);

        Assert.True(read.IsRead);
        Assert.Equal("kf", read.Value.Name);
        Assert.Null(read.Problem);
    }
}
