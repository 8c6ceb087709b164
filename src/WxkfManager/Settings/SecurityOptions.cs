using System.ComponentModel.DataAnnotations;

namespace WxkfManager.Settings;

public sealed class SecurityOptions
{
    public const string Section = "Security";

    /// <summary>
    /// The puppet key (env MANAGER_API_KEY): opens the puppet endpoints (/puppetWxkfManager/*) only, as a bearer
    /// token or as the password of HTTP Basic credentials. Puppets carry it in their manager URL, so it shows in
    /// their logs. Unset: those endpoints are open, and the service says so.
    /// </summary>
    [MinLength(16, ErrorMessage = "MANAGER_API_KEY must be at least 16 characters")]
    public string? ManagementKey { get; set; }

    /// <summary>
    /// The operator key (env MANAGER_OPERATOR_KEY): opens /operator/*, /metrics and the console. With only the
    /// puppet key set those stay closed (the puppet key never opens them); with neither key they are open.
    /// </summary>
    [MinLength(16, ErrorMessage = "MANAGER_OPERATOR_KEY must be at least 16 characters")]
    public string? OperatorKey { get; set; }

    /// <summary>
    /// Networks (CIDR) puppet and operator callers must come from (env MANAGER_ALLOWED_NETWORKS, comma-separated),
    /// checked before the key: a caller needs both the network and, where one is set, the key. Empty: any.
    /// </summary>
    public List<string> ManagementNetworks { get; set; } = [];

    /// <summary>Networks (CIDR) that may post to /callback/decrypted (env DECRYPTED_CALLBACK_NETWORKS). Empty: any, as the original.</summary>
    public List<string> GatewayNetworks { get; set; } = [];

    /// <summary>Key a gateway must present on /callback/decrypted (env MANAGER_GATEWAY_KEY), Bearer or Basic password. Unset: none.</summary>
    [MinLength(16, ErrorMessage = "MANAGER_GATEWAY_KEY must be at least 16 characters")]
    public string? GatewayKey { get; set; }

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

    public bool HasOperatorKey => !string.IsNullOrEmpty(OperatorKey);
}
