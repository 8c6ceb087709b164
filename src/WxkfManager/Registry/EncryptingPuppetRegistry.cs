using WxkfManager.Registry;
using WxkfManager.Security;

namespace WxkfManager.Registry;

/// <summary>Stores corpSecret, token and encodingAESKey encrypted, whatever store is underneath.</summary>
public sealed class EncryptingPuppetRegistry(IPuppetRegistry inner, SecretProtector protector, ILogger<EncryptingPuppetRegistry> logger) : IPuppetRegistry
{
    public Task InitializeAsync(CancellationToken cancellationToken) => inner.InitializeAsync(cancellationToken);

    public async Task<PuppetRegistration> UpsertAsync(PuppetRegistration registration, CancellationToken cancellationToken) =>
        Reveal(await inner.UpsertAsync(Protect(registration), cancellationToken), protector).Registration
            ?? throw new InvalidOperationException("a registration just written could not be read back with the same key");

    public async Task<PuppetRegistration?> MarkOfflineAsync(string kfId, string corpId, DateTime at, CancellationToken cancellationToken) =>
        RevealOrNull(await inner.MarkOfflineAsync(kfId, corpId, at, cancellationToken));

    public async Task<PuppetRegistration?> MarkOfflineIfLatestAsync(PuppetRegistration seen, DateTime at, CancellationToken cancellationToken) =>
        RevealOrNull(await inner.MarkOfflineIfLatestAsync(seen, at, cancellationToken));

    public async Task<PuppetRegistration?> FindAsync(string kfId, CancellationToken cancellationToken) =>
        RevealOrNull(await inner.FindAsync(kfId, cancellationToken));

    public async Task<IReadOnlyList<PuppetRegistration>> ListAsync(CancellationToken cancellationToken) =>
        (await ReadChangesAsync(null, cancellationToken)).Loaded;

    public async Task<RegistryChanges> ReadChangesAsync(DateTime? since, CancellationToken cancellationToken)
    {
        var changes = await inner.ReadChangesAsync(since, cancellationToken);
        var loaded = new List<PuppetRegistration>(changes.Loaded.Count);
        var unloadable = new List<UnloadableRegistration>(changes.Unloadable);
        foreach (var stored in changes.Loaded)
        {
            var (registration, fault) = Reveal(stored, protector);
            if (registration is not null)
            {
                loaded.Add(registration);
            }
            else
            {
                unloadable.Add(fault!);
            }
        }
        return changes with { Loaded = loaded, Unloadable = unloadable };
    }

    public Task PingAsync(CancellationToken cancellationToken) => inner.PingAsync(cancellationToken);

    private PuppetRegistration Protect(PuppetRegistration registration) => registration with
    {
        CorpSecret = protector.Protect(registration.CorpSecret),
        Token = protector.Protect(registration.Token),
        EncodingAesKey = protector.Protect(registration.EncodingAesKey),
    };

    /// <summary>The registration in clear, or which secret cannot be decrypted with the configured key.</summary>
    private static (PuppetRegistration? Registration, UnloadableRegistration? Fault) Reveal(PuppetRegistration registration, SecretProtector protector)
    {
        string? field = null;
        try
        {
            field = "corpSecret";
            var corpSecret = protector.Unprotect(registration.CorpSecret);
            field = "token";
            var token = protector.Unprotect(registration.Token);
            field = "encodingAESKey";
            var encodingAesKey = protector.Unprotect(registration.EncodingAesKey);
            return (registration with { CorpSecret = corpSecret, Token = token, EncodingAesKey = encodingAesKey }, null);
        }
        catch (Exception exception) when (exception is System.Security.Cryptography.CryptographicException or FormatException or ArgumentException)
        {
            return (null, new UnloadableRegistration(registration.KfId, field!, "cannot be decrypted with SECRETS_ENCRYPTION_KEY"));
        }
    }

    private PuppetRegistration? RevealOrNull(PuppetRegistration? registration)
    {
        if (registration is null)
        {
            return null;
        }
        var (revealed, fault) = Reveal(registration, protector);
        if (fault is not null)
        {
            logger.LogWarning("Registration {OpenKfId} cannot be loaded: its {Field} {Reason}", fault.KfId, fault.Field, fault.Reason);
        }
        return revealed;
    }
}
