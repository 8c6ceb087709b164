using WxkfManager.Crypto;
using WxkfManager.Registry;

namespace WxkfManager.Apis;

/// <summary>Checks a registration field by field, so the puppet's operator reads every problem at once.</summary>
public static class RegistrationValidation
{
    public static IReadOnlyList<string> Validate(RegisterRequest request) => Validate(request, []);

    public static IReadOnlyList<string> Validate(RegisterRequest request, IReadOnlyCollection<string> allowedHosts)
    {
        var errors = new List<string>();
        CheckKfId(request.KfId, errors);
        CheckText(request.KfName, "kfName", 256, errors, spacesAllowed: true);
        CheckEndpoint(request.Endpoint, allowedHosts, errors);
        CheckCorpId(request.CorpId, errors);
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
        CheckKfId(request.KfId, errors);
        CheckCorpId(request.CorpId, errors);
        return errors;
    }

    /// <summary>The endpoint as it is stored and called: scheme, host, port and path, parsed and re-written.</summary>
    public static string NormalizeEndpoint(string endpoint)
    {
        var uri = new Uri(endpoint, UriKind.Absolute);
        // The manager appends /callback: a trailing slash adds nothing.
        return uri.GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped).TrimEnd('/');
    }

    private static void CheckKfId(string? value, List<string> errors)
    {
        if (string.IsNullOrEmpty(value))
        {
            errors.Add("kfId is required");
        }
        else if (!WeComIds.IsOpenKfId(value))
        {
            errors.Add("kfId " + WeComIds.OpenKfIdRule);
        }
    }

    private static void CheckCorpId(string? value, List<string> errors)
    {
        if (string.IsNullOrEmpty(value))
        {
            errors.Add("corpId is required");
        }
        else if (!WeComIds.IsCorpId(value))
        {
            errors.Add(WeComIds.CorpIdRule);
        }
    }

    /// <summary>Secrets and keys have no whitespace; a display name may have spaces, never control characters.</summary>
    private static void CheckText(string? value, string name, int maxLength, List<string> errors, bool spacesAllowed = false)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            errors.Add($"{name} is required");
        }
        else if (value.Length > maxLength || value.Any(IsControl) || (!spacesAllowed && value.Any(char.IsWhiteSpace)))
        {
            errors.Add(spacesAllowed
                ? $"{name} must be at most {maxLength} characters, without control characters"
                : $"{name} must be at most {maxLength} characters, without whitespace or control characters");
        }
    }

    // Line and paragraph separators end a line in some viewers, like CR and LF.
    private static bool IsControl(char c) => char.IsControl(c) || c is '\u2028' or '\u2029';

    private static void CheckEndpoint(string? endpoint, IReadOnlyCollection<string> allowedHosts, List<string> errors)
    {
        if (string.IsNullOrWhiteSpace(endpoint))
        {
            errors.Add("endpoint is required");
            return;
        }
        if (endpoint.Any(c => IsControl(c) || char.IsWhiteSpace(c)))
        {
            // Uri drops tabs and newlines silently; the raw string must not reach the store or a log.
            errors.Add("endpoint must be an absolute http or https URL without whitespace or control characters");
        }
        else if (endpoint.Length > 2048
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
