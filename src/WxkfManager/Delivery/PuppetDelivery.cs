namespace WxkfManager.Delivery;

public enum CallbackKind
{
    /// <summary>WeCom's encrypted XML, forwarded unchanged to {endpoint}/callback with its signed query.</summary>
    Encrypted,

    /// <summary>A gateway's decrypted JSON, forwarded to {endpoint}/callback/decrypted.</summary>
    Decrypted,
}

/// <summary>One verified callback on its way to one puppet.</summary>
public sealed record PuppetDelivery(
    string Id,
    CallbackKind Kind,
    string CorpId,
    string KfId,
    string Endpoint,
    string Body,
    SignedQuery? Query,
    DateTime ReceivedAt)
{
    public Uri TargetUri()
    {
        var baseUrl = Endpoint.TrimEnd('/');
        return Kind switch
        {
            CallbackKind.Encrypted => new Uri($"{baseUrl}/callback?{Query!.ToQueryString()}"),
            _ => new Uri($"{baseUrl}/callback/decrypted"),
        };
    }

    public string ContentType => Kind == CallbackKind.Encrypted ? "application/xml" : "application/json";
}

/// <summary>The three parameters WeCom signs a callback with, forwarded as they came.</summary>
public sealed record SignedQuery(string MsgSignature, string Timestamp, string Nonce)
{
    public string ToQueryString() =>
        $"msg_signature={Uri.EscapeDataString(MsgSignature)}&timestamp={Uri.EscapeDataString(Timestamp)}&nonce={Uri.EscapeDataString(Nonce)}";
}
