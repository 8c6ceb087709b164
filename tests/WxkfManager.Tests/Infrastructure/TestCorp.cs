using System.Net.Http.Json;
using WxkfManager.Crypto;

namespace WxkfManager.Tests.Infrastructure;

/// <summary>A WeCom app of a made-up corp: its credentials, and callbacks signed the way WeCom signs them.</summary>
public sealed class TestCorp
{
    private static int _nonce;

    public TestCorp(string? corpId = null, string? token = null, string? encodingAesKey = null)
    {
        CorpId = corpId ?? "ww" + Guid.NewGuid().ToString("N")[..16];
        Token = token ?? "tok" + Guid.NewGuid().ToString("N")[..8];
        EncodingAesKey = encodingAesKey ?? WxkfManager.Crypto.EncodingAesKey.Generate();
        Crypto = WeComCrypto.Create(Token, EncodingAesKey);
    }

    public string CorpId { get; }
    public string Token { get; }
    public string EncodingAesKey { get; }
    public string CorpSecret { get; } = "secret-" + Guid.NewGuid().ToString("N");
    public WeComCrypto Crypto { get; }

    /// <summary>Another app of the same corp, with its own token and key.</summary>
    public TestCorp OtherApp() => new(CorpId);

    public static string NewKfId() => "wk" + Guid.NewGuid().ToString("N")[..24];

    public object Registration(string kfId, string endpoint) => new
    {
        kfId,
        kfName = "客服 " + kfId[..6],
        endpoint,
        corpId = CorpId,
        corpSecret = CorpSecret,
        token = Token,
        encodingAESKey = EncodingAesKey,
    };

    public async Task<PuppetStub.Puppet> RegisterPuppetAsync(HttpClient manager, PuppetStub stub, string? kfId = null)
    {
        var puppet = stub.Add(kfId ?? NewKfId(), CorpId, Token, EncodingAesKey);
        using var response = await manager.PostAsJsonAsync("/puppetWxkfManager/register", Registration(puppet.KfId, puppet.Endpoint));
        response.EnsureSuccessStatusCode();
        return puppet;
    }

    public SignedCallback Callback(string openKfId, string? syncToken = null, string eventType = CallbackEvent.KfMessageOrEvent, string? receiveId = null)
    {
        var inner = new CallbackEvent(CorpId, "1700000000", "event", eventType, syncToken ?? "ENC" + Guid.NewGuid().ToString("N"), openKfId).ToXml();
        var timestamp = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString();
        var nonce = Interlocked.Increment(ref _nonce).ToString() + Random.Shared.Next(1000, 9999);
        var sealedMessage = Crypto.Seal(inner, receiveId ?? CorpId, timestamp, nonce);
        var body = new CallbackEnvelope(CorpId, "1000002", sealedMessage.Encrypt).ToXml();
        return new SignedCallback(CorpId, sealedMessage.Signature, timestamp, nonce, body, syncToken);
    }
}

public sealed record SignedCallback(string CorpId, string Signature, string Timestamp, string Nonce, string Body, string? SyncToken)
{
    public string Path => $"/callback/{CorpId}?msg_signature={Signature}&timestamp={Timestamp}&nonce={Nonce}";

    public HttpContent Content(string mediaType = "text/xml") => new StringContent(Body, System.Text.Encoding.UTF8, mediaType);
}
