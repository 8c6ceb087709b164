using WxkfManager.Crypto;

namespace WxkfManager.Registry;

/// <summary>
/// Whether a stored registration can become a valid entry. The original service stored whatever it was
/// sent, nulls included, so a database carried over from it may hold registrations that cannot serve;
/// they are reported by field (the original's field names), never by value, and the rest load.
/// </summary>
public static class RegistrationCheck
{
    /// <summary>A field the callback path cannot do without is null or empty; checked as the store reads it.</summary>
    public static UnloadableRegistration? MissingField(PuppetRegistration registration)
    {
        var kfId = string.IsNullOrEmpty(registration.KfId) ? UnloadableRegistration.UnknownKfId : registration.KfId;
        string? field =
            string.IsNullOrEmpty(registration.KfId) ? "kfOpenId"
            : string.IsNullOrEmpty(registration.CorpId) ? "corpId"
            : string.IsNullOrEmpty(registration.Endpoint) ? "botEndpoint"
            : string.IsNullOrEmpty(registration.CorpSecret) ? "corpSecret"
            : string.IsNullOrEmpty(registration.Token) ? "token"
            : string.IsNullOrEmpty(registration.EncodingAesKey) ? "encodingAESKey"
            : null;
        return field is null ? null : new UnloadableRegistration(kfId, field, "is missing or empty");
    }

    /// <summary>The app key is not a WeCom EncodingAESKey; checked once secrets are revealed.</summary>
    public static UnloadableRegistration? UnusableKey(PuppetRegistration registration) =>
        EncodingAesKey.TryParse(registration.EncodingAesKey, out _, out _)
            ? null
            : new UnloadableRegistration(registration.KfId, "encodingAESKey", "is not a 43-character Base64 EncodingAESKey");
}
