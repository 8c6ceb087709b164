using System.Security.Cryptography;

namespace WxkfManager.Crypto;

/// <summary>
/// A callback signed and encrypted the way WeCom sends it, for tools and tests that play WeCom's part:
/// the query parameters and, for an event, the XML body.
/// </summary>
public sealed record WeComCallback(string CorpId, string MsgSignature, string Timestamp, string Nonce, string? Body, string? EchoStr)
{
    /// <summary>The relative URL WeCom calls: <c>callback/{corpId}?msg_signature=..&amp;timestamp=..&amp;nonce=..[&amp;echostr=..]</c>.</summary>
    public string RelativeUrl
    {
        get
        {
            var query = $"msg_signature={MsgSignature}&timestamp={Timestamp}&nonce={Nonce}";
            if (EchoStr is not null)
            {
                query += "&echostr=" + Uri.EscapeDataString(EchoStr);
            }
            return $"callback/{Uri.EscapeDataString(CorpId)}?{query}";
        }
    }

    /// <summary>A <c>kf_msg_or_event</c> callback for <paramref name="openKfId"/> carrying <paramref name="syncToken"/>.</summary>
    public static WeComCallback KfMessageOrEvent(WeComCrypto crypto, string corpId, string openKfId, string syncToken,
        DateTimeOffset now, string? nonce = null, string agentId = "1000002")
    {
        var timestamp = now.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture);
        var inner = new CallbackEvent(corpId, timestamp, "event", CallbackEvent.KfMessageOrEvent, syncToken, openKfId).ToXml();
        var sealedMessage = crypto.Seal(inner, corpId, timestamp, nonce ?? NewNonce());
        var body = new CallbackEnvelope(corpId, agentId, sealedMessage.Encrypt).ToXml();
        return new WeComCallback(corpId, sealedMessage.Signature, timestamp, sealedMessage.Nonce, body, null);
    }

    /// <summary>WeCom's URL verification: <paramref name="echo"/> encrypted as echostr; the answer must be <paramref name="echo"/>.</summary>
    public static WeComCallback UrlVerification(WeComCrypto crypto, string corpId, string echo, DateTimeOffset now, string? nonce = null)
    {
        var timestamp = now.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture);
        var sealedEcho = crypto.Seal(echo, corpId, timestamp, nonce ?? NewNonce());
        return new WeComCallback(corpId, sealedEcho.Signature, timestamp, sealedEcho.Nonce, null, sealedEcho.Encrypt);
    }

    // WeCom's nonces are short decimal strings; a cryptographic source keeps two runs from colliding.
    private static string NewNonce() => RandomNumberGenerator.GetInt32(100_000_000, int.MaxValue).ToString(System.Globalization.CultureInfo.InvariantCulture);
}
