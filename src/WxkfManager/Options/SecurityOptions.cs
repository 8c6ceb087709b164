using System.ComponentModel.DataAnnotations;

namespace WxkfManager.Options;

public sealed class SecurityOptions
{
    public const string Section = "Security";

    /// <summary>
    /// The key management and operator endpoints require (env MANAGER_API_KEY), as a bearer token or as the
    /// password of HTTP Basic credentials. Unset: those endpoints are open, and the service says so.
    /// </summary>
    [MinLength(16, ErrorMessage = "MANAGER_API_KEY must be at least 16 characters")]
    public string? ManagementKey { get; set; }

    /// <summary>Networks (CIDR) management callers must come from (env MANAGER_ALLOWED_NETWORKS, comma-separated). Empty: any.</summary>
    public List<string> ManagementNetworks { get; set; } = [];

    /// <summary>Hosts a puppet may register as its endpoint (exact names, or CIDR for IP addresses). Empty: any.</summary>
    public List<string> AllowedPuppetHosts { get; set; } = [];

    /// <summary>
    /// Base64 of a 32-byte key (env SECRETS_ENCRYPTION_KEY): when set, corpSecret, token and encodingAESKey are
    /// stored encrypted with AES-GCM, so a stolen database or backup does not give them away.
    /// </summary>
    public string? SecretsEncryptionKey { get; set; }

    /// <summary>Management requests per client address per minute.</summary>
    [Range(1, 100_000)]
    public int ManagementRequestsPerMinute { get; set; } = 600;

    /// <summary>Callbacks with a bad signature per client address per minute before that address is refused for the rest of the minute.</summary>
    [Range(1, 100_000)]
    public int SignatureFailuresPerMinute { get; set; } = 30;

    public bool HasManagementKey => !string.IsNullOrEmpty(ManagementKey);
}
