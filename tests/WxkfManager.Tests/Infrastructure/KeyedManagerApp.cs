namespace WxkfManager.Tests.Infrastructure;

/// <summary>A manager with its management keys set: the puppet key, the operator key and a secrets encryption key.</summary>
public sealed class KeyedManagerApp : ManagerApp
{
    /// <summary>The puppet key (MANAGER_API_KEY).</summary>
    public const string Key = "test-management-key-0123456789abcdef";

    public const string OperatorKey = "test-operator-key-fedcba9876543210";

    public KeyedManagerApp() => With("MANAGER_API_KEY", Key)
        .With("MANAGER_OPERATOR_KEY", OperatorKey)
        .With("SECRETS_ENCRYPTION_KEY", Convert.ToBase64String(new byte[32]));
}
