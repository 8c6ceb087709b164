using WxkfManager.Settings;

namespace WxkfManager.Security;

/// <summary>What is weaker than it should be in production, said once at start-up and in /ready's warnings.</summary>
public static class SecurityWarnings
{
    public static IReadOnlyList<string> For(SecurityOptions options)
    {
        var warnings = new List<string>();
        if (!options.HasManagementKey)
        {
            warnings.Add("MANAGER_API_KEY is not set: anyone who can reach /puppetWxkfManager can register puppets and read their state");
        }
        if (!options.HasOperatorKey)
        {
            warnings.Add(options.HasManagementKey
                ? "MANAGER_OPERATOR_KEY is not set: /operator and /metrics are closed (the puppet key MANAGER_API_KEY no longer opens them)"
                : "MANAGER_OPERATOR_KEY is not set: /operator and /metrics are open to anyone who can reach them");
        }
        if (string.IsNullOrEmpty(options.SecretsEncryptionKey))
        {
            warnings.Add("SECRETS_ENCRYPTION_KEY is not set: corpSecret, token, encodingAESKey and access tokens are stored in clear");
        }
        return warnings;
    }
}
