using Microsoft.Extensions.Options;
using MongoDB.Driver;
using WxkfManager.Options;
using WxkfManager.Registry;

namespace WxkfManager.Tokens;

/// <summary>
/// The token cache shared by several manager replicas, in the registry's database. Taking the refresh
/// lease is one atomic upsert, so for each key one replica at a time calls WeCom.
/// </summary>
public sealed class MongoTokenStore : ITokenStore, IDisposable
{
    public const string CollectionName = "wxkfaccesstokens";

    internal static readonly UpdateOptions Upsert = new() { IsUpsert = true };

    private readonly MongoClient _client;
    private readonly IMongoCollection<TokenDocument> _collection;
    private readonly ILogger<MongoTokenStore> _logger;

    public MongoTokenStore(IOptions<StorageOptions> options, ILogger<MongoTokenStore> logger)
    {
        (_client, _collection) = MongoConnection.Open<TokenDocument>(options, CollectionName);
        _logger = logger;
    }

    internal IMongoCollection<TokenDocument> Collection => _collection;

    // The only lookup is by _id, whose index MongoDB always has; the collection appears with its first write.
    public Task InitializeAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task<CachedToken?> GetAsync(string cacheKey, CancellationToken cancellationToken)
    {
        var document = await _collection.Find(Filters.TokenFor(cacheKey)).FirstOrDefaultAsync(cancellationToken);
        return document?.ToToken();
    }

    public async Task SaveAsync(CachedToken token, CancellationToken cancellationToken) =>
        await _collection.UpdateOneAsync(Filters.ById(token.CacheKey), Updates.Save(token), Upsert, cancellationToken);

    public async Task<bool> TryLeaseRefreshAsync(string cacheKey, string owner, DateTime now, DateTime until, CancellationToken cancellationToken)
    {
        try
        {
            var result = await _collection.UpdateOneAsync(
                Filters.Leasable(cacheKey, owner, now), Updates.Lease(owner, until), Upsert, cancellationToken);
            return result.MatchedCount == 1 || result.UpsertedId is not null;
        }
        catch (MongoWriteException exception) when (exception.WriteError.Category == ServerErrorCategory.DuplicateKey)
        {
            // The key exists but another owner's lease is live, so the filter missed and the upsert hit the _id.
            if (_logger.IsEnabled(LogLevel.Debug))
            {
                _logger.LogDebug("Token refresh lease refused to {LeaseOwner}: another replica holds it", owner);
            }
            return false;
        }
    }

    public async Task ReleaseRefreshAsync(string cacheKey, string owner, CancellationToken cancellationToken) =>
        await _collection.UpdateOneAsync(Filters.LeasedBy(cacheKey, owner), Updates.Release, cancellationToken: cancellationToken);

    public void Dispose() => _client.Dispose();

    internal static class Filters
    {
        private static FilterDefinitionBuilder<TokenDocument> Filter => Builders<TokenDocument>.Filter;

        public static FilterDefinition<TokenDocument> ById(string cacheKey) => Filter.Eq(d => d.Id, cacheKey);

        /// <summary>The key's saved token; a document holding only a lease has none (null also matches a missing field).</summary>
        public static FilterDefinition<TokenDocument> TokenFor(string cacheKey) =>
            ById(cacheKey) & Filter.Ne(d => d.AccessToken, null);

        /// <summary>The key, unleased, its lease run out, or already leased to <paramref name="owner"/>.</summary>
        public static FilterDefinition<TokenDocument> Leasable(string cacheKey, string owner, DateTime now) =>
            ById(cacheKey)
            & (Filter.Eq(d => d.LeaseUntil, null)
               | Filter.Lte(d => d.LeaseUntil, now.ToUniversalTime())
               | Filter.Eq(d => d.LeaseOwner, owner));

        public static FilterDefinition<TokenDocument> LeasedBy(string cacheKey, string owner) =>
            ById(cacheKey) & Filter.Eq(d => d.LeaseOwner, owner);
    }

    internal static class Updates
    {
        private static UpdateDefinitionBuilder<TokenDocument> Update => Builders<TokenDocument>.Update;

        /// <summary>The token replaces whatever the key held, and the lease taken to fetch it ends.</summary>
        public static UpdateDefinition<TokenDocument> Save(CachedToken token) =>
            Update
                .Set(d => d.CorpId, token.CorpId)
                .Set(d => d.AccessToken, token.AccessToken)
                .Set(d => d.ExpiresAt, token.ExpiresAt.ToUniversalTime())
                .Set(d => d.FetchedAt, token.FetchedAt.ToUniversalTime())
                .Set(d => d.LeaseOwner, null)
                .Set(d => d.LeaseUntil, null);

        public static UpdateDefinition<TokenDocument> Lease(string owner, DateTime until) =>
            Update.Set(d => d.LeaseOwner, owner).Set(d => d.LeaseUntil, until.ToUniversalTime());

        public static UpdateDefinition<TokenDocument> Release { get; } =
            Builders<TokenDocument>.Update.Set(d => d.LeaseOwner, null).Set(d => d.LeaseUntil, null);
    }
}
