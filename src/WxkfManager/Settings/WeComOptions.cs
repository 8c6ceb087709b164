using System.ComponentModel.DataAnnotations;

namespace WxkfManager.Settings;

public sealed class WeComOptions
{
    public const string Section = "WeCom";

    /// <summary>Where access tokens come from (env ACCESS_TOKEN_URL): WeCom's gettoken, or a token service of your own.</summary>
    [Required, Url]
    public string AccessTokenUrl { get; set; } = "https://qyapi.weixin.qq.com/cgi-bin/gettoken";

    /// <summary>The base the request proxy forwards to; paths are appended to it.</summary>
    [Required, Url]
    public string ApiBaseUrl { get; set; } = "https://qyapi.weixin.qq.com/cgi-bin/";

    [Range(typeof(TimeSpan), "00:00:01", "00:05:00")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>A cached token is refreshed this long before it expires (at most a quarter of its lifetime).</summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan TokenRefreshMargin { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>A forced refresh within this long of the last fetch returns the token just fetched.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00")]
    public TimeSpan ForcedRefreshMinInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long to wait for another replica that is fetching the same corp's token before fetching it here.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:01:00")]
    public TimeSpan TokenLeaseWait { get; set; } = TimeSpan.FromSeconds(10);
}
