using System.Text.Json;

namespace WxkfManager.WeCom;

/// <summary>Recognises WeCom's "this access_token is invalid or expired" answers (40014, 42001).</summary>
public static class TokenRejection
{
    private const int MaxInspectedBytes = 64 * 1024;

    /// <summary>The errcode when a JSON answer says the token was rejected; the answer stays readable either way.</summary>
    public static async Task<int?> ReadAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var content = response.Content;
        if (content.Headers.ContentType?.MediaType is not ("application/json" or "text/plain")
            || content.Headers.ContentLength is > MaxInspectedBytes)
        {
            return null;
        }
        await content.LoadIntoBufferAsync(MaxInspectedBytes, cancellationToken);
        try
        {
            using var json = JsonDocument.Parse(await content.ReadAsStreamAsync(cancellationToken));
            return json.RootElement.TryGetProperty("errcode", out var code) && code.TryGetInt32(out var errcode) && errcode is 40014 or 42001
                ? errcode
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public static string ReplaceToken(string queryString, string stale, string fresh) =>
        queryString.Replace("access_token=" + Uri.EscapeDataString(stale), "access_token=" + Uri.EscapeDataString(fresh), StringComparison.Ordinal)
            .Replace("access_token=" + stale, "access_token=" + Uri.EscapeDataString(fresh), StringComparison.Ordinal);
}
