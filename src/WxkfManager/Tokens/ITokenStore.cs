namespace WxkfManager.Tokens;

/// <summary>A cached WeCom access token, keyed by corp id and a hash of the corp secret (never the secret).</summary>
public sealed record CachedToken(string CacheKey, string CorpId, string AccessToken, DateTime ExpiresAt, DateTime FetchedAt);

/// <summary>
/// Where access tokens are cached beyond one process: SQLite so they survive restarts, MongoDB so a whole
/// fleet shares one token per corp. The refresh lease makes one replica at a time call WeCom for a key.
/// </summary>
public interface ITokenStore
{
    Task InitializeAsync(CancellationToken cancellationToken);

    Task<CachedToken?> GetAsync(string cacheKey, CancellationToken cancellationToken);

    /// <summary>Stores the token for its key and releases any refresh lease on it.</summary>
    Task SaveAsync(CachedToken token, CancellationToken cancellationToken);

    /// <summary>Takes the right to refresh the key until <paramref name="until"/>; false while another owner holds an unexpired lease.</summary>
    Task<bool> TryLeaseRefreshAsync(string cacheKey, string owner, DateTime now, DateTime until, CancellationToken cancellationToken);

    Task ReleaseRefreshAsync(string cacheKey, string owner, CancellationToken cancellationToken);
}
