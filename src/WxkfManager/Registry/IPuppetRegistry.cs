namespace WxkfManager.Registry;

/// <summary>Durable store of puppet registrations; the callback path reads <see cref="PuppetDirectory"/> instead.</summary>
public interface IPuppetRegistry
{
    /// <summary>Creates the schema or indexes; called once at start-up.</summary>
    Task InitializeAsync(CancellationToken cancellationToken);

    /// <summary>Inserts or replaces the registration for its KfId and marks it online.</summary>
    Task<PuppetRegistration> UpsertAsync(PuppetRegistration registration, CancellationToken cancellationToken);

    /// <summary>Marks the puppet offline and notes when; null when no puppet has that KfId in that corp.</summary>
    Task<PuppetRegistration?> MarkOfflineAsync(string kfId, string corpId, DateTime at, CancellationToken cancellationToken);

    /// <summary>
    /// Marks the puppet offline only if it is still online with the registration <paramref name="seen"/> read
    /// (no instance registered since); null otherwise.
    /// </summary>
    Task<PuppetRegistration?> MarkOfflineIfLatestAsync(PuppetRegistration seen, DateTime at, CancellationToken cancellationToken);

    Task<PuppetRegistration?> FindAsync(string kfId, CancellationToken cancellationToken);

    /// <summary>Every registration that can be loaded; unloadable ones are left out (see <see cref="ReadChangesAsync"/>).</summary>
    Task<IReadOnlyList<PuppetRegistration>> ListAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Registrations changed at or after <paramref name="since"/> by the store's change marker, or all of them
    /// when null; a registration that cannot become a valid entry is reported, not thrown.
    /// </summary>
    Task<RegistryChanges> ReadChangesAsync(DateTime? since, CancellationToken cancellationToken);

    /// <summary>Throws when the store does not answer; backs /ready.</summary>
    Task PingAsync(CancellationToken cancellationToken);
}
