using System.Text;
using System.Text.Json;

namespace WxkfManager.Apis;

/// <summary>Reads request bodies with a size cap, turning oversize or malformed input into a reason instead of an exception.</summary>
public static class RequestBody
{
    public const int MaxJsonBytes = 16 * 1024;

    public static async Task<(string? Text, string? Error, bool TooLarge)> ReadTextAsync(HttpRequest request, int maxBytes, CancellationToken cancellationToken)
    {
        if (request.ContentLength > maxBytes)
        {
            return (null, $"body is larger than {maxBytes} bytes", true);
        }
        using var buffer = new MemoryStream(request.ContentLength is { } length ? (int)length : 0);
        var chunk = System.Buffers.ArrayPool<byte>.Shared.Rent(8192);
        try
        {
            int read;
            while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
            {
                if (buffer.Length + read > maxBytes)
                {
                    return (null, $"body is larger than {maxBytes} bytes", true);
                }
                buffer.Write(chunk, 0, read);
            }
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(chunk);
        }
        try
        {
            return (new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(buffer.GetBuffer(), 0, (int)buffer.Length), null, false);
        }
        catch (DecoderFallbackException)
        {
            return (null, "body is not valid UTF-8", false);
        }
    }

    public static Task<(T? Value, string? Raw, string? Error, bool TooLarge)> ReadJsonAsync<T>(HttpRequest request, CancellationToken cancellationToken)
        where T : class => ReadJsonAsync<T>(request, MaxJsonBytes, cancellationToken);

    public static async Task<(T? Value, string? Raw, string? Error, bool TooLarge)> ReadJsonAsync<T>(HttpRequest request, int maxBytes, CancellationToken cancellationToken)
        where T : class
    {
        var (text, error, tooLarge) = await ReadTextAsync(request, maxBytes, cancellationToken);
        if (text is null)
        {
            return (null, null, error, tooLarge);
        }
        if (string.IsNullOrWhiteSpace(text))
        {
            return (null, null, "body must be a JSON object", false);
        }
        try
        {
            var value = JsonSerializer.Deserialize<T>(text, JsonSerializerOptions.Web);
            return value is null ? (null, null, "body must be a JSON object", false) : (value, text, null, false);
        }
        catch (JsonException exception)
        {
            var where = exception.Path is { Length: > 0 } path ? $" at {path}" : "";
            return (null, null, $"body is not a valid JSON object for this endpoint{where}: string fields expected", false);
        }
    }
}
