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
    /// <summary>
    /// The instances that registered since the puppet was last offline, oldest first, newest last; empty for
    /// a registration written by the original service. Decides whose deregister takes the puppet offline.
    /// </summary>
    public IReadOnlyList<PuppetInstance> Instances { get; init; } = [];

    /// <summary>The instance that registered last, whose endpoint gets the events.</summary>
    public PuppetInstance? Newest => Instances.Count > 0 ? Instances[^1] : null;

    // Secrets must never reach a log line through a record's generated ToString.
    public override string ToString() =>
        $"PuppetRegistration {{ KfId = {KfId}, KfName = {KfName}, Endpoint = {Endpoint}, CorpId = {CorpId}, Online = {Online} }}";
}
