using Microsoft.Extensions.Options;
using MongoDB.Driver;
using WxkfManager.Settings;
using WxkfManager.Registry;
using WxkfManager.Tokens;

namespace WxkfManager.Storage.Mongo;

/// <summary>
/// The token cache shared by several manager replicas, in the registry's database. Taking the refresh
/// lease is one atomic upsert, so for each key one replica at a time calls WeCom.
/// </summary>
public sealed class MongoTokenStore : ITokenStore, IDisposable
{
    public const string CollectionName = "wxkfaccesstokens";

    internal static readonly UpdateOptions Upsert = new() { IsUpsert = true };

    private readonly IMongoCollection<TokenDocument> _collection;
    private readonly ILogger<MongoTokenStore> _logger;

    public MongoTokenStore(IOptions<StorageOptions> options, ILogger<MongoTokenStore> logger)
    {
        _collection = MongoConnection.Open<TokenDocument>(options, CollectionName);
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

    /// <summary>
    /// Saves the token unless the key holds one fetched later: a slow replica's older token never replaces a
    /// newer one. The key's document is created only if absent, so no write goes backwards.
    /// </summary>
    public async Task SaveAsync(CachedToken token, CancellationToken cancellationToken)
    {
        var replaced = await _collection.UpdateOneAsync(Filters.SaveableOver(token), Updates.Save(token), cancellationToken: cancellationToken);
        if (replaced.MatchedCount == 1)
        {
            return;
        }
        try
        {
            var inserted = await _collection.UpdateOneAsync(Filters.ById(token.CacheKey), Updates.SaveIfAbsent(token), Upsert, cancellationToken);
            if (inserted.UpsertedId is null)
            {
                _logger.LogInformation("Token of {CorpId} fetched at {FetchedAt:O} not saved: the store holds a newer one", token.CorpId, token.FetchedAt);
            }
        }
        catch (MongoWriteException exception) when (exception.WriteError.Category == ServerErrorCategory.DuplicateKey)
        {
            // Another replica created the key between the two writes; its token is at least as new.
        }
    }

    /// <summary>
    /// Takes the lease where the key is leasable; creates the key only if absent. A replica waiting on a
    /// live lease gets "no" from an update matching nothing, not from a duplicate-key error.
    /// </summary>
    public async Task<bool> TryLeaseRefreshAsync(string cacheKey, string owner, DateTime now, DateTime until, CancellationToken cancellationToken)
    {
        var taken = await _collection.UpdateOneAsync(
            Filters.Leasable(cacheKey, owner, now), Updates.Lease(owner, until), cancellationToken: cancellationToken);
        if (taken.MatchedCount == 1)
        {
            return true;
        }
        try
        {
            var created = await _collection.UpdateOneAsync(Filters.ById(cacheKey), Updates.LeaseIfAbsent(owner, until), Upsert, cancellationToken);
            return created.UpsertedId is not null;
        }
        catch (MongoWriteException exception) when (exception.WriteError.Category == ServerErrorCategory.DuplicateKey)
        {
            // Two replicas created the key at once; the other one holds the lease.
            if (_logger.IsEnabled(LogLevel.Debug))
            {
                _logger.LogDebug("Token refresh lease refused to {LeaseOwner}: another replica holds it", owner);
            }
            return false;
        }
    }

    public async Task ReleaseRefreshAsync(string cacheKey, string owner, CancellationToken cancellationToken) =>
        await _collection.UpdateOneAsync(Filters.LeasedBy(cacheKey, owner), Updates.Release, cancellationToken: cancellationToken);

    public void Dispose()
    {
        // The client is shared by the stores and lives as long as the process (see MongoConnection).
    }

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

        /// <summary>The key, holding no token or one fetched no later than <paramref name="token"/>.</summary>
        public static FilterDefinition<TokenDocument> SaveableOver(CachedToken token) =>
            ById(token.CacheKey)
            & (Filter.Eq(d => d.FetchedAt, null) | Filter.Lte(d => d.FetchedAt, token.FetchedAt.ToUniversalTime()));

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

        public static UpdateDefinition<TokenDocument> SaveIfAbsent(CachedToken token) =>
            Update
                .SetOnInsert(d => d.CorpId, token.CorpId)
                .SetOnInsert(d => d.AccessToken, token.AccessToken)
                .SetOnInsert(d => d.ExpiresAt, token.ExpiresAt.ToUniversalTime())
                .SetOnInsert(d => d.FetchedAt, token.FetchedAt.ToUniversalTime());

        public static UpdateDefinition<TokenDocument> LeaseIfAbsent(string owner, DateTime until) =>
            Update.SetOnInsert(d => d.LeaseOwner, owner).SetOnInsert(d => d.LeaseUntil, until.ToUniversalTime());

        public static UpdateDefinition<TokenDocument> Lease(string owner, DateTime until) =>
            Update.Set(d => d.LeaseOwner, owner).Set(d => d.LeaseUntil, until.ToUniversalTime());

        public static UpdateDefinition<TokenDocument> Release { get; } =
            Builders<TokenDocument>.Update.Set(d => d.LeaseOwner, null).Set(d => d.LeaseUntil, null);
    }
}
