using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using WxkfManager.Settings;
using WxkfManager.Security;

namespace WxkfManager.OperatorConsole;

/// <summary>
/// The one place the console asks "is this the operator key?" (MANAGER_OPERATOR_KEY), with the same rule as
/// /operator: with only the puppets' key (MANAGER_API_KEY) set, the console is closed, never open.
/// </summary>
public sealed class OperatorKey(IOptionsMonitor<SecurityOptions> options)
{
    private string? Current => options.CurrentValue.HasOperatorKey ? options.CurrentValue.OperatorKey : null;

    /// <summary>False: no key at all is configured and the console is open, as /operator is.</summary>
    public bool IsConfigured => Current is not null || options.CurrentValue.HasManagementKey;

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
