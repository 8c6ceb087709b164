using WxkfManager.Crypto;

namespace WxkfManager.Crypto.Tests;

/// <summary>
/// Vectors from the WeCom callback documentation (the WXBizMsgCrypt samples: Token "QDG6eK",
/// corp "wx5823bf96d3bd56c7"), and one built by hand with openssl from the documented layout.
/// </summary>
public sealed class OfficialVectorTests
{
    private const string CorpId = "wx5823bf96d3bd56c7";
    private static readonly WeComCrypto Crypto = WeComCrypto.Create("QDG6eK", "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C");

    private const string PostEncrypt =
        "RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3QczcdCUpj911L3vg3W/sYYvuJTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjvd4Xgpue06DOdnLxAUHzM6+kDZ+HMZfJYuR+LtwGc2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMnvw2r+KqCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9EL4EhzJWrQUax5wLVMNS0+rUPA3k22Ncx4XXZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1ptDAVe0lXdQ2YoyyH2uyPIGHBZZIs2pDBS8R07+qN+E7Q==";

    [Fact]
    public void UrlVerification_DocumentSample_DecryptsEchostr()
    {
        var result = Crypto.Open(
            "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3",
            "1409659589",
            "263014780",
            "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ==",
            CorpId);

        Assert.Equal(OpenStatus.Ok, result.Status);
        Assert.Equal("1616140317555161061", result.Message);
    }

    [Fact]
    public void Callback_DocumentSample_DecryptsMessage()
    {
        var result = Crypto.Open("477715d11cdb4164915debcba66cb864d751f3e6", "1409659813", "1372623149", PostEncrypt, CorpId);

        Assert.Equal(OpenStatus.Ok, result.Status);
        var fields = FlatXml.TryRead(result.Message);
        Assert.NotNull(fields);
        Assert.Equal(CorpId, fields["ToUserName"]);
        Assert.Equal("mycreate", fields["FromUserName"]);
        Assert.Equal("1409659813", fields["CreateTime"]);
        Assert.Equal("text", fields["MsgType"]);
        Assert.Equal("hello", fields["Content"]);
        Assert.Equal("4561255354251345929", fields["MsgId"]);
        Assert.Equal("218", fields["AgentID"]);
    }

    [Fact]
    public void Signature_DocumentSample_Matches()
    {
        Assert.Equal("477715d11cdb4164915debcba66cb864d751f3e6", Crypto.ComputeSignature("1409659813", "1372623149", PostEncrypt));
    }

    // Built with openssl from the documented layout: random = bytes 0..15, big-endian length,
    // the UTF-8 message (with a multi-byte Token), the receive id, PKCS#7 to 32 bytes.
    private const string KfEventEncrypt =
        "JVwoIzeb5XuqKIT2XqjnoIrgg1o7ndogK7Hm5ZKk3AeYFLuxCVgiDTHbacPtGy8lyzsDGZGa/zuG9TSJtQ8MdSQIaT+QNFIJXCeKy06fTcmN7Sie6nCYdQX07jo10VYPESDXHeM0K77VXXSLZ5ws9SOu4DDga0QboSCJja+MfABrQI+K6r1T/uPO4nvJ8OwRZKejxdN4AHl+uZFx+jhY1ngyVfAImFl2WZKSiSXL4MfltWSWhaHCE/6TizT4vl9cJ1ujafIgzNdg9dnJxePsh9TsxF2dKP8VnlB71PIDSan+1Jx/cCEfP/gK9RTKU9vyuViRveRWRRCAQqri05Hh9yVTG8AObQZys2iB1U94m/Y+ZuvfpJNplAL4tLuOHvHeJz1c0TPfWeiFJzqBaZiuYcEEbBKNlOyEUjwojHy8Q/GekcqraQhd9nQh3jSbd9fo8rAeenahTqKjIfFYhDkK2w==";

    private const string KfEventXml =
        "<xml><ToUserName><![CDATA[ww1234567890abcdef]]></ToUserName><CreateTime>1700000000</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[kf_msg_or_event]]></Event><Token><![CDATA[ENC_TOKEN_客服]]></Token><OpenKfId><![CDATA[wkAJ2GCAAAZSfhHCt7IFSvLKtMPxyJTw]]></OpenKfId></xml>";

    [Fact]
    public void KfEvent_HandBuiltVector_OpensAndParses()
    {
        var result = Crypto.Open("70a35b5d7f23c0b48fee45b19d1351cd82480e81", "1700000000", "1597212914", KfEventEncrypt, "ww1234567890abcdef");

        Assert.Equal(OpenStatus.Ok, result.Status);
        Assert.Equal(KfEventXml, result.Message);
        var kfEvent = CallbackEvent.TryParse(result.Message);
        Assert.NotNull(kfEvent);
        Assert.True(kfEvent.IsKfMessageOrEvent);
        Assert.Equal("ENC_TOKEN_客服", kfEvent.Token);
        Assert.Equal("wkAJ2GCAAAZSfhHCt7IFSvLKtMPxyJTw", kfEvent.OpenKfId);
    }

    [Fact]
    public void Encrypt_WithTheSameRandomPrefix_ReproducesTheHandBuiltVector()
    {
        var random = Enumerable.Range(0, 16).Select(i => (byte)i).ToArray();

        Assert.Equal(KfEventEncrypt, Crypto.Encrypt(KfEventXml, "ww1234567890abcdef", random));
    }
}
