using System.Text.RegularExpressions;
using WxkfManager.Crypto;

namespace WxkfManager.Apis;

/// <summary>Checks a registration field by field, so the puppet's operator reads every problem at once.</summary>
public static partial class RegistrationValidation
{
    [GeneratedRegex("^[A-Za-z0-9_\\-.@]{1,128}$")]
    private static partial Regex Identifier();

    public static IReadOnlyList<string> Validate(RegisterRequest request) => Validate(request, []);

    public static IReadOnlyList<string> Validate(RegisterRequest request, IReadOnlyCollection<string> allowedHosts)
    {
        var errors = new List<string>();
        CheckIdentifier(request.KfId, "kfId", errors);
        CheckText(request.KfName, "kfName", 256, errors);
        CheckEndpoint(request.Endpoint, allowedHosts, errors);
        CheckIdentifier(request.CorpId, "corpId", errors);
        CheckText(request.CorpSecret, "corpSecret", 512, errors);
        CheckText(request.Token, "token", 128, errors);
        if (!EncodingAesKey.TryParse(request.EncodingAesKey, out _, out var keyError))
        {
            errors.Add(keyError!);
        }
        return errors;
    }

    public static IReadOnlyList<string> Validate(DeregisterRequest request)
    {
        var errors = new List<string>();
        CheckIdentifier(request.KfId, "kfId", errors);
        CheckIdentifier(request.CorpId, "corpId", errors);
        return errors;
    }

    public static bool IsIdentifier(string? value) => value is not null && Identifier().IsMatch(value);

    private static void CheckIdentifier(string? value, string name, List<string> errors)
    {
        if (string.IsNullOrEmpty(value))
        {
            errors.Add($"{name} is required");
        }
        else if (!Identifier().IsMatch(value))
        {
            errors.Add($"{name} must be 1-128 letters, digits, '_', '-', '.' or '@'");
        }
    }

    private static void CheckText(string? value, string name, int maxLength, List<string> errors)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            errors.Add($"{name} is required");
        }
        else if (value.Length > maxLength || value.Any(char.IsControl))
        {
            errors.Add($"{name} must be at most {maxLength} characters, without control characters");
        }
    }

    private static void CheckEndpoint(string? endpoint, IReadOnlyCollection<string> allowedHosts, List<string> errors)
    {
        if (string.IsNullOrWhiteSpace(endpoint))
        {
            errors.Add("endpoint is required");
            return;
        }
        if (endpoint.Length > 2048
            || !Uri.TryCreate(endpoint, UriKind.Absolute, out var uri)
            || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
            || string.IsNullOrEmpty(uri.Host))
        {
            errors.Add("endpoint must be an absolute http or https URL, e.g. http://10.0.0.5:8080");
        }
        else if (!string.IsNullOrEmpty(uri.UserInfo))
        {
            errors.Add("endpoint must not contain credentials");
        }
        else if (!string.IsNullOrEmpty(uri.Query) || !string.IsNullOrEmpty(uri.Fragment))
        {
            errors.Add("endpoint must not have a query or fragment: the manager appends /callback to it");
        }
        else if (allowedHosts.Count > 0 && !IsAllowedHost(uri, allowedHosts))
        {
            errors.Add($"endpoint host {uri.Host} is not in the allowed puppet hosts");
        }
    }

    /// <summary>An entry is a host name (case-insensitive) or, for IP addresses, a CIDR network.</summary>
    public static bool IsAllowedHost(Uri endpoint, IReadOnlyCollection<string> allowedHosts)
    {
        var address = System.Net.IPAddress.TryParse(endpoint.IdnHost.Trim('[', ']'), out var parsed) ? parsed : null;
        return allowedHosts.Any(allowed =>
            string.Equals(allowed, endpoint.IdnHost, StringComparison.OrdinalIgnoreCase)
            || (address is not null && System.Net.IPNetwork.TryParse(allowed, out var network) && network.Contains(address)));
    }
}
