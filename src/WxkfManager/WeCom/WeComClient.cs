using Microsoft.Extensions.Options;
using WxkfManager.Settings;

namespace WxkfManager.WeCom;

/// <summary>Calls WeCom (or the configured token service) on behalf of puppets. The caller disposes the response.</summary>
public sealed class WeComClient(HttpClient http, IOptions<WeComOptions> options)
{
    public Task<HttpResponseMessage> GetTokenAsync(string corpId, string corpSecret, CancellationToken cancellationToken)
    {
        var url = options.Value.AccessTokenUrl;
        var separator = url.Contains('?') ? '&' : '?';
        var uri = new Uri($"{url}{separator}corpid={Uri.EscapeDataString(corpId)}&corpsecret={Uri.EscapeDataString(corpSecret)}");
        return http.GetAsync(uri, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
    }

    /// <summary>Passes a call through to the WeCom API base; <paramref name="path"/> must already be checked by <see cref="ProxyPath"/>.</summary>
    public Task<HttpResponseMessage> ProxyAsync(HttpMethod method, string path, string queryString, HttpContent? content, CancellationToken cancellationToken)
    {
        var request = new HttpRequestMessage(method, ProxyPath.Resolve(options.Value.ApiBaseUrl, path, queryString)) { Content = content };
        return http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
    }
}
