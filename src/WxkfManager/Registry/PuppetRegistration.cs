namespace WxkfManager.Registry;

/// <summary>
/// A puppet as it registered itself. Secrets (CorpSecret, Token, EncodingAesKey) stay inside the
/// service: API answers leave them out.
/// </summary>
public sealed record PuppetRegistration(
    string KfId,
    string KfName,
    string Endpoint,
    string CorpId,
    string CorpSecret,
    string Token,
    string EncodingAesKey,
    bool Online,
    DateTime? LastOnlineDate,
    DateTime? RegisteredAt)
{
    // Secrets must never reach a log line through a record's generated ToString.
    public override string ToString() =>
        $"PuppetRegistration {{ KfId = {KfId}, KfName = {KfName}, Endpoint = {Endpoint}, CorpId = {CorpId}, Online = {Online} }}";
}
