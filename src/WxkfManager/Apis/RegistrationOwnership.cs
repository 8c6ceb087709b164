using WxkfManager.Registry;
using WxkfManager.Security;

namespace WxkfManager.Apis;

/// <summary>
/// Who may re-register a kfId that is registered and online: whoever shows the same corp and the same callback
/// credentials (token and encodingAESKey), as a restarting or moving instance does, from any address and at any
/// endpoint. WeCom signs every callback with those credentials, so only their holder can use the events anyway;
/// anyone else (every puppet of every corp has the puppet key) is refused, and the owner keeps its callbacks.
/// A kfId that was deregistered is free. Changing credentials or corp takes a deregister or an operator.
/// </summary>
public static class RegistrationOwnership
{
    /// <summary>The fields (names only, never values) that differ from the current owner's; empty when it is the owner or the kfId is free.</summary>
    public static IReadOnlyList<string> Differences(PuppetRegistration? current, RegisterRequest request)
    {
        if (current is null || !current.Online)
        {
            return [];
        }
        var differences = new List<string>(3);
        if (!string.Equals(current.CorpId, request.CorpId, StringComparison.Ordinal))
        {
            differences.Add("corpId");
        }
        // Constant time over digests, so timing says nothing of the owner's secrets.
        if (!ManagementAccess.KeysEqual(request.Token ?? "", current.Token))
        {
            differences.Add("token");
        }
        if (!ManagementAccess.KeysEqual(request.EncodingAesKey ?? "", current.EncodingAesKey))
        {
            differences.Add("encodingAESKey");
        }
        return differences;
    }

    public static string Refusal(string kfId, IReadOnlyList<string> differences) =>
        $"kfId {kfId} is registered with another {string.Join(", ", differences)}: deregister it first, or ask an operator to change it";
}
