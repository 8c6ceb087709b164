namespace WxkfManager.Registry;

/// <summary>
/// A registration the store holds but this service cannot serve (a null field, a malformed key, a secret
/// encrypted with another key). Names the field, never its value.
/// </summary>
public sealed record UnloadableRegistration(string KfId, string Field, string Reason)
{
    /// <summary>What an unloadable document is listed under when it has no usable kfOpenId itself.</summary>
    public const string UnknownKfId = "(none)";
}

/// <summary>
/// What a read of the registry found: every registration when <see cref="Complete"/>, else those changed
/// at or after the marker asked for. <see cref="Marker"/> is the newest change marker among them (the
/// store's clock), to ask from next time; null when the store holds no marked registration.
/// </summary>
public sealed record RegistryChanges(
    IReadOnlyList<PuppetRegistration> Loaded,
    IReadOnlyList<UnloadableRegistration> Unloadable,
    DateTime? Marker,
    bool Complete)
{
    /// <summary>The newer of two markers, so a read that found nothing never moves the marker back.</summary>
    public static DateTime? Newest(DateTime? a, DateTime? b) => a is null ? b : b is null ? a : a > b ? a : b;
}
