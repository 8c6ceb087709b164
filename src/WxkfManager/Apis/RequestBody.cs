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

    public static async Task<BodyRead<string>> ReadTextAsync(HttpRequest request, int maxBytes, CancellationToken cancellationToken)
    {
        var tooLarge = new BodyRead<string>(null, new BodyProblem(true, $"body is larger than {maxBytes} bytes"));
        if (request.ContentLength > maxBytes)
        {
            return tooLarge;
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
                    return tooLarge;
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
            return new(new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(buffer.GetBuffer(), 0, (int)buffer.Length), null);
        }
        catch (DecoderFallbackException)
        {
            return new(null, BodyProblem.Malformed("body is not valid UTF-8"));
        }
    }

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
