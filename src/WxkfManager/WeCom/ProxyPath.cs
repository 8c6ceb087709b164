using System.Text.RegularExpressions;

namespace WxkfManager.WeCom;

/// <summary>Keeps proxied calls inside the WeCom API base: relative API paths only.</summary>
public static partial class ProxyPath
{
    [GeneratedRegex("^[A-Za-z0-9_\\-]+(/[A-Za-z0-9_\\-.]+)*$")]
    private static partial Regex ApiPath();

    public static string? Check(string? path)
    {
        if (string.IsNullOrEmpty(path))
        {
            return "an API path is required, e.g. kf/account/list";
        }
        if (path.Length > 256 || !ApiPath().IsMatch(path) || path.Split('/').Any(segment => segment.Trim('.').Length == 0))
        {
            return "path must be a relative WeCom API path of letters, digits, '_', '-', '.' and '/', without '..'";
        }
        return null;
    }

    public static Uri Resolve(string apiBaseUrl, string path, string queryString)
    {
        var baseUrl = apiBaseUrl.EndsWith('/') ? apiBaseUrl : apiBaseUrl + "/";
        return new Uri(baseUrl + path + queryString);
    }
}
