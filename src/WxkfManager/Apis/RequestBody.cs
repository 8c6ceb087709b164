using System.Diagnostics.CodeAnalysis;
using System.Text;
using System.Text.Json;

namespace WxkfManager.Apis;

/// <summary>Why a body was not read: too large (413) or malformed (400). The one place that maps the two to a status.</summary>
public sealed record BodyProblem(bool TooLarge, string Message)
{
    public int StatusCode => TooLarge ? StatusCodes.Status413PayloadTooLarge : StatusCodes.Status400BadRequest;

    /// <summary>The reason callbacks are counted under in <c>wxkf_callbacks_refused_total</c>.</summary>
    public string MetricReason => TooLarge ? "too_large" : "bad_body";

    public static BodyProblem Malformed(string message) => new(false, message);
}

/// <summary>A body that was read (<see cref="Value"/>) or why not (<see cref="Problem"/>).</summary>
public sealed record BodyRead<T>(T? Value, BodyProblem? Problem) where T : class
{
    [MemberNotNullWhen(true, nameof(Value))]
    [MemberNotNullWhen(false, nameof(Problem))]
    public bool IsRead => Value is not null;
}

/// <summary>Reads request bodies with a size cap, turning oversize or malformed input into a <see cref="BodyProblem"/> instead of an exception.</summary>
public static class RequestBody
{
    public const int MaxJsonBytes = 16 * 1024;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>
    /// Reads the body into a pooled buffer that grows (up to one byte past <paramref name="maxBytes"/>, which tells an
    /// oversize body) and decodes it once: every callback comes this way, so the only allocation is the text itself.
    /// </summary>
    public static async Task<BodyRead<string>> ReadTextAsync(HttpRequest request, int maxBytes, CancellationToken cancellationToken)
    {
        if (request.ContentLength > maxBytes)
        {
            return TooLarge(maxBytes);
        }
        var pool = System.Buffers.ArrayPool<byte>.Shared;
        var buffer = pool.Rent(request.ContentLength is { } length ? (int)Math.Max(length + 1, 256) : 8192);
        var filled = 0;
        try
        {
            int read;
            while ((read = await request.Body.ReadAsync(buffer.AsMemory(filled), cancellationToken)) > 0)
            {
                filled += read;
                if (filled > maxBytes)
                {
                    return TooLarge(maxBytes);
                }
                if (filled == buffer.Length)
                {
                    var larger = pool.Rent((int)Math.Min(buffer.Length * 2L, maxBytes + 1L));
                    buffer.AsSpan(0, filled).CopyTo(larger);
                    pool.Return(buffer);
                    buffer = larger;
                }
            }
            return new(StrictUtf8.GetString(buffer, 0, filled), null);
        }
        catch (DecoderFallbackException)
        {
            return new(null, BodyProblem.Malformed("body is not valid UTF-8"));
        }
        finally
        {
            pool.Return(buffer);
        }
    }

    private static BodyRead<string> TooLarge(int maxBytes) => new(null, new BodyProblem(true, $"body is larger than {maxBytes} bytes"));

    public static async Task<BodyRead<T>> ReadJsonAsync<T>(HttpRequest request, CancellationToken cancellationToken, int maxBytes = MaxJsonBytes)
        where T : class
    {
        var text = await ReadTextAsync(request, maxBytes, cancellationToken);
        if (!text.IsRead)
        {
            return new(null, text.Problem);
        }
        if (string.IsNullOrWhiteSpace(text.Value))
        {
            return new(null, BodyProblem.Malformed("body must be a JSON object"));
        }
        try
        {
            var value = JsonSerializer.Deserialize<T>(text.Value, JsonSerializerOptions.Web);
            return new(value, value is null ? BodyProblem.Malformed("body must be a JSON object") : null);
        }
        catch (JsonException exception)
        {
            var where = exception.Path is { Length: > 0 } path ? $" at {path}" : "";
            return new(null, BodyProblem.Malformed($"body is not a valid JSON object for this endpoint{where}: string fields expected"));
        }
    }
}
