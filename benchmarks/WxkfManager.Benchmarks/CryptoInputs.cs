using System.Text.Json;
using WxkfManager.Crypto;

namespace WxkfManager.Benchmarks;

/// <summary>One realistic kf_msg_or_event callback, sealed the way WeCom seals it; shared with the Node comparison as JSON.</summary>
public sealed record CryptoInputs(string Token, string EncodingAesKey, string CorpId, string Timestamp, string Nonce, string Message, string Encrypt, string Signature)
{
    public static CryptoInputs Create()
    {
        const string corpId = "ww1234567890abcdef";
        var key = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C";
        var crypto = WeComCrypto.Create("QDG6eK", key);
        var message = new CallbackEvent(corpId, "1700000000", "event", CallbackEvent.KfMessageOrEvent,
            "ENCApHxnGDNAVNY4AaSJKj4Tb5mwsEMzxhFmHVGcra996NR", "wkAJ2GCAAAZSfhHCt7IFSvLKtMPxyJTw").ToXml();
        var sealedMessage = crypto.Seal(message, corpId, "1700000000", "1597212914");
        return new CryptoInputs("QDG6eK", key, corpId, "1700000000", "1597212914", message, sealedMessage.Encrypt, sealedMessage.Signature);
    }

    public string ToJson() => JsonSerializer.Serialize(this, JsonSerializerOptions.Web);
}
