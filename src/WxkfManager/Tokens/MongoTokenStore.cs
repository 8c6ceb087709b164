namespace WxkfManager.Tokens;

// Placeholder until the MongoDB token store lands from its branch.
public sealed class MongoTokenStore : ITokenStore
{
    public Task InitializeAsync(CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task<CachedToken?> GetAsync(string cacheKey, CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task SaveAsync(CachedToken token, CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task<bool> TryLeaseRefreshAsync(string cacheKey, string owner, DateTime now, DateTime until, CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task ReleaseRefreshAsync(string cacheKey, string owner, CancellationToken cancellationToken) => throw new NotSupportedException();
}
