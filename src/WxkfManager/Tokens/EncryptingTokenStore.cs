using System.Security.Cryptography;
using WxkfManager.Security;
using WxkfManager.Registry;

namespace WxkfManager.Tokens;

/// <summary>
/// Stores access tokens encrypted, whatever store is underneath, as <see cref="EncryptingPuppetRegistry"/> does for
/// the registrations' secrets. A token that cannot be decrypted with the configured key (it was written under
/// another key) is read as no token: it is a cache, and the next caller fetches a fresh one.
/// </summary>
public sealed class EncryptingTokenStore(ITokenStore inner, SecretProtector protector, ILogger<EncryptingTokenStore> logger) : ITokenStore
{
    public Task InitializeAsync(CancellationToken cancellationToken) => inner.InitializeAsync(cancellationToken);

    public async Task<CachedToken?> GetAsync(string cacheKey, CancellationToken cancellationToken)
    {
        var stored = await inner.GetAsync(cacheKey, cancellationToken);
        if (stored is null)
        {
            return null;
        }
        try
        {
            return stored with { AccessToken = protector.Unprotect(stored.AccessToken) };
        }
        catch (Exception exception) when (exception is CryptographicException or FormatException)
        {
            logger.LogWarning("The cached access token of {CorpId} cannot be decrypted with SECRETS_ENCRYPTION_KEY; a fresh one will be fetched", stored.CorpId);
            return null;
        }
    }

    public Task SaveAsync(CachedToken token, CancellationToken cancellationToken) =>
        inner.SaveAsync(token with { AccessToken = protector.Protect(token.AccessToken) }, cancellationToken);

    public Task<bool> TryLeaseRefreshAsync(string cacheKey, string owner, DateTime now, DateTime until, CancellationToken cancellationToken) =>
        inner.TryLeaseRefreshAsync(cacheKey, owner, now, until, cancellationToken);

    public Task ReleaseRefreshAsync(string cacheKey, string owner, CancellationToken cancellationToken) =>
        inner.ReleaseRefreshAsync(cacheKey, owner, cancellationToken);
}
