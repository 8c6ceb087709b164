using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using WxkfManager.Options;
using WxkfManager.Security;

namespace WxkfManager.OperatorConsole;

/// <summary>
/// The one place the console asks "is this the operator key?". Today the operator key is the management
/// key (MANAGER_API_KEY); when operators get a key of their own, only this class changes.
/// </summary>
public sealed class OperatorKey(IOptionsMonitor<SecurityOptions> options)
{
    private string? Current => options.CurrentValue.HasManagementKey ? options.CurrentValue.ManagementKey : null;

    /// <summary>False: no key is configured and the console is open, as /operator is.</summary>
    public bool IsConfigured => Current is not null;

    public bool Matches(string? presented) =>
        Current is { } key && !string.IsNullOrEmpty(presented) && ManagementAccess.KeysEqual(presented, key);

    /// <summary>
    /// A one-way tag of the current key, kept inside the (encrypted) sign-in cookie: when the key changes,
    /// sessions signed in with the old one end. Never the key itself.
    /// </summary>
    public string Fingerprint => Current is { } key
        ? Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("wxkf-console-session\n" + key)))[..32]
        : "open";

    public IReadOnlyCollection<string> AllowedNetworks => options.CurrentValue.ManagementNetworks;
}
