using WxkfManager.Registry;

namespace WxkfManager.Security;

/// <summary>Stores corpSecret, token and encodingAESKey encrypted, whatever store is underneath.</summary>
public sealed class EncryptingPuppetRegistry(IPuppetRegistry inner, SecretProtector protector) : IPuppetRegistry
{
    public Task InitializeAsync(CancellationToken cancellationToken) => inner.InitializeAsync(cancellationToken);

    public async Task<PuppetRegistration> UpsertAsync(PuppetRegistration registration, CancellationToken cancellationToken) =>
        Reveal(await inner.UpsertAsync(Protect(registration), cancellationToken));

    public async Task<PuppetRegistration?> MarkOfflineAsync(string kfId, string corpId, DateTime at, CancellationToken cancellationToken) =>
        RevealOrNull(await inner.MarkOfflineAsync(kfId, corpId, at, cancellationToken));

    public async Task<PuppetRegistration?> MarkOfflineIfLatestAsync(PuppetRegistration seen, DateTime at, CancellationToken cancellationToken) =>
        RevealOrNull(await inner.MarkOfflineIfLatestAsync(seen, at, cancellationToken));

    public async Task<PuppetRegistration?> FindAsync(string kfId, CancellationToken cancellationToken) =>
        RevealOrNull(await inner.FindAsync(kfId, cancellationToken));

    public async Task<IReadOnlyList<PuppetRegistration>> ListAsync(CancellationToken cancellationToken) =>
        (await inner.ListAsync(cancellationToken)).Select(Reveal).ToList();

    public Task PingAsync(CancellationToken cancellationToken) => inner.PingAsync(cancellationToken);

    private PuppetRegistration Protect(PuppetRegistration registration) => registration with
    {
        CorpSecret = protector.Protect(registration.CorpSecret),
        Token = protector.Protect(registration.Token),
        EncodingAesKey = protector.Protect(registration.EncodingAesKey),
    };

    private PuppetRegistration Reveal(PuppetRegistration registration) => registration with
    {
        CorpSecret = protector.Unprotect(registration.CorpSecret),
        Token = protector.Unprotect(registration.Token),
        EncodingAesKey = protector.Unprotect(registration.EncodingAesKey),
    };

    private PuppetRegistration? RevealOrNull(PuppetRegistration? registration) => registration is null ? null : Reveal(registration);
}
