using System.Diagnostics.CodeAnalysis;
using System.Text.RegularExpressions;

namespace WxkfManager.Registry;

/// <summary>
/// The shapes of WeCom's identifiers, checked before an id is looked up, stored or logged. A corp id is "ww"
/// (or, for old corps, "wx") and 16 hex digits; a service provider's open corp id is a longer run of letters
/// and digits, so corp ids are 2-64 ASCII letters and digits. A customer-service account's open_kfid is "wk"
/// and letters, digits, '_' or '-' (e.g. wkAJ2GCAAAZSfhHCt7IFSvLKtMPxyJTw). A sync token (the Token of a
/// kf_msg_or_event) is Base64-like text. Anything else, control characters included, is not an id.
/// </summary>
public static partial class WeComIds
{
    public const string CorpIdRule = "corpId must be 2-64 ASCII letters and digits (a WeCom corp id such as ww0123456789abcdef)";
    public const string OpenKfIdRule = "must be a WeCom open_kfid: 'wk' then 1-62 ASCII letters, digits, '_' or '-'";
    public const string SyncTokenRule = "token must be 1-256 ASCII letters, digits, '_', '-', '+', '/' or '='";

    [GeneratedRegex("^[A-Za-z0-9]{2,64}$")]
    private static partial Regex CorpIdPattern();

    [GeneratedRegex("^wk[A-Za-z0-9_-]{1,62}$")]
    private static partial Regex OpenKfIdPattern();

    [GeneratedRegex("^[A-Za-z0-9_\\-+/=]{1,256}$")]
    private static partial Regex SyncTokenPattern();

    public static bool IsCorpId([NotNullWhen(true)] string? value) => value is not null && CorpIdPattern().IsMatch(value);

    public static bool IsOpenKfId([NotNullWhen(true)] string? value) => value is not null && OpenKfIdPattern().IsMatch(value);

    public static bool IsSyncToken([NotNullWhen(true)] string? value) => value is not null && SyncTokenPattern().IsMatch(value);
}
