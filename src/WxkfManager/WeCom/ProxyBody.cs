namespace WxkfManager.WeCom;

/// <summary>
/// A proxied request body: kept in memory when small (JSON calls), so the call can be repeated with a
/// fresh token; streamed through once when large (media uploads).
/// </summary>
public sealed class ProxyBody
{
    public const int MaxReplayableBytes = 1024 * 1024;

    private readonly byte[]? _bytes;
    private readonly Stream? _stream;
    private readonly string? _contentType;
    private readonly long? _length;

    private ProxyBody(byte[]? bytes, Stream? stream, string? contentType, long? length)
    {
        _bytes = bytes;
        _stream = stream;
        _contentType = contentType;
        _length = length;
    }

    public bool Replayable => _bytes is not null;

    public static async Task<ProxyBody> ReadAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (request.ContentLength is > MaxReplayableBytes)
        {
            return new ProxyBody(null, request.Body, request.ContentType, request.ContentLength);
        }
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer, cancellationToken);
        return new ProxyBody(buffer.ToArray(), null, request.ContentType, null);
    }

    public HttpContent ToContent()
    {
        HttpContent content = _bytes is not null ? new ByteArrayContent(_bytes) : new StreamContent(_stream!);
        if (_contentType is not null)
        {
            content.Headers.TryAddWithoutValidation("Content-Type", _contentType);
        }
        if (_length is { } length)
        {
            content.Headers.ContentLength = length;
        }
        return content;
    }
}
