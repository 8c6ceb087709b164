using Microsoft.Extensions.Options;
using MongoDB.Bson;
using MongoDB.Driver;
using WxkfManager.Settings;
using WxkfManager.Registry;

namespace WxkfManager.Storage.Mongo;

/// <summary>
/// The shared store for several manager replicas, in the original Node service's collection and
/// field names so its existing database carries over.
/// </summary>
public sealed class MongoPuppetRegistry : IPuppetRegistry, IDisposable
{
    /// <summary>What mongoose named the collection of the model <c>WxkfPuppet</c>.</summary>
    public const string CollectionName = "wxkfpuppets";

    // The name mongoose gives its `unique: true` index, so ours is the same index, not a second one.
    private const string KfIdIndexName = "kfOpenId_1";
    private const string CorpIdIndexName = "corpId_1";
    private const string UpdatedAtIndexName = "updatedAt_1";

    private const int DuplicateKeyCode = 11000;

    private static readonly FindOneAndUpdateOptions<PuppetDocument> UpsertOptions =
        new() { IsUpsert = true, ReturnDocument = ReturnDocument.After };

    private static readonly FindOneAndUpdateOptions<PuppetDocument> UpdateOptions =
        new() { ReturnDocument = ReturnDocument.After };

    private readonly IMongoCollection<PuppetDocument> _collection;
    private readonly ILogger<MongoPuppetRegistry> _logger;

    public MongoPuppetRegistry(IOptions<StorageOptions> options, ILogger<MongoPuppetRegistry> logger)
    {
        _collection = MongoConnection.Open<PuppetDocument>(options, CollectionName);
        _logger = logger;
    }

    /// <summary>Over a collection someone else opened and disposes: tests hand it one that records what it is asked.</summary>
    internal MongoPuppetRegistry(IMongoCollection<PuppetDocument> collection, ILogger<MongoPuppetRegistry> logger)
    {
        _collection = collection;
        _logger = logger;
    }

    internal IMongoCollection<PuppetDocument> Collection => _collection;

    private static IReadOnlyList<CreateIndexModel<PuppetDocument>> Indexes { get; } =
    [
        new(Builders<PuppetDocument>.IndexKeys.Ascending(d => d.KfId),
            new CreateIndexOptions { Name = KfIdIndexName, Unique = true }),
        new(Builders<PuppetDocument>.IndexKeys.Ascending(d => d.CorpId),
            new CreateIndexOptions { Name = CorpIdIndexName }),
        // Each replica asks for what changed since its last look, about once a second.
        new(Builders<PuppetDocument>.IndexKeys.Ascending(d => d.UpdatedAt),
            new CreateIndexOptions { Name = UpdatedAtIndexName }),
    ];

    private static SortDefinition<PuppetDocument> ListOrder { get; } = Builders<PuppetDocument>.Sort.Ascending(d => d.KfId);

    public async Task InitializeAsync(CancellationToken cancellationToken) =>
        await _collection.Indexes.CreateManyAsync(Indexes, cancellationToken);

    public async Task<PuppetRegistration> UpsertAsync(PuppetRegistration registration, CancellationToken cancellationToken)
    {
        try
        {
            return await UpsertOnceAsync(registration, cancellationToken);
        }
        catch (MongoCommandException exception) when (exception.Code == DuplicateKeyCode)
        {
            // Two first registrations of one kfId can both miss and both insert; the unique index turns the
            // loser away, and its second try finds the winner's document and updates it.
            _logger.LogInformation("Registration of {OpenKfId} raced another; retrying it as an update", registration.KfId);
            return await UpsertOnceAsync(registration, cancellationToken);
        }
    }

    public async Task<PuppetRegistration?> MarkOfflineAsync(string kfId, string corpId, DateTime at, CancellationToken cancellationToken)
    {
        var document = await _collection.FindOneAndUpdateAsync(
            Filters.ByKfIdInCorp(kfId, corpId), Updates.MarkOffline(at), UpdateOptions, cancellationToken);
        return document?.ToRegistration();
    }

    public async Task<PuppetRegistration?> MarkOfflineIfLatestAsync(PuppetRegistration seen, DateTime at, CancellationToken cancellationToken)
    {
        var document = await _collection.FindOneAndUpdateAsync(
            Filters.StillLatest(seen), Updates.MarkOffline(at), UpdateOptions, cancellationToken);
        return document?.ToRegistration();
    }

    /// <summary>The registration, or null when there is none or it cannot be loaded (logged).</summary>
    public async Task<PuppetRegistration?> FindAsync(string kfId, CancellationToken cancellationToken)
    {
        var raw = await _collection.Find(Filters.ByKfId(kfId)).As<BsonDocument>().FirstOrDefaultAsync(cancellationToken);
        if (raw is null)
        {
            return null;
        }
        var (registration, unloadable) = PuppetDocument.Read(raw);
        if (unloadable is not null)
        {
            _logger.LogWarning("Registration {OpenKfId} cannot be loaded: its {Field} {Reason}", unloadable.KfId, unloadable.Field, unloadable.Reason);
        }
        return registration;
    }

    public async Task<IReadOnlyList<PuppetRegistration>> ListAsync(CancellationToken cancellationToken) =>
        (await ReadChangesAsync(null, cancellationToken)).Loaded;

    /// <summary>The last window of changes read in full: where it began, how many documents it held, and the sum of their markers.</summary>
    private sealed record ChangeWindow(DateTime Since, long Count, long MarkerSum);

    private ChangeWindow? _lastWindow;

    public async Task<RegistryChanges> ReadChangesAsync(DateTime? since, CancellationToken cancellationToken)
    {
        if (since is null)
        {
            return await ReadAsync(Filters.All, since, cancellationToken);
        }
        // As SqlitePuppetRegistry: the catch-up asks for the same window once a second, and a count and a sum over the
        // updatedAt index tell whether any document in it changed, so the documents are not read again. Taken before
        // the read, so a write landing meanwhile changes the next one.
        var window = await WindowAsync(since.Value, cancellationToken);
        if (window == _lastWindow)
        {
            return new RegistryChanges([], [], since, Complete: false);
        }
        var changes = await ReadAsync(Filters.ChangedSince(since.Value), since, cancellationToken);
        _lastWindow = window;
        return changes;
    }

    private async Task<ChangeWindow> WindowAsync(DateTime since, CancellationToken cancellationToken)
    {
        // $group over nothing answers nothing: an empty window.
        var summary = await (await _collection.AggregateAsync(WindowPipeline(since), cancellationToken: cancellationToken))
            .FirstOrDefaultAsync(cancellationToken);
        return new ChangeWindow(since, summary?["count"].ToInt64() ?? 0, summary?["markers"].ToInt64() ?? 0);
    }

    /// <summary>How many documents changed since <paramref name="since"/>, and the sum of their markers in milliseconds.</summary>
    internal static PipelineDefinition<PuppetDocument, BsonDocument> WindowPipeline(DateTime since) =>
        new EmptyPipelineDefinition<PuppetDocument>()
            .Match(Filters.ChangedSince(since))
            .Group(new BsonDocument
            {
                { "_id", BsonNull.Value },
                { "count", new BsonDocument("$sum", 1) },
                { "markers", new BsonDocument("$sum", new BsonDocument("$toLong", "$" + PuppetDocument.UpdatedAtElement)) },
            });

    private async Task<RegistryChanges> ReadAsync(FilterDefinition<PuppetDocument> filter, DateTime? since, CancellationToken cancellationToken)
    {
        // Raw documents, each converted on its own: one the original left with a null cannot fail the others.
        var raws = await _collection.Find(filter)
            .Sort(ListOrder)
            .As<BsonDocument>()
            .ToListAsync(cancellationToken);
        var loaded = new List<PuppetRegistration>(raws.Count);
        var unloadable = new List<UnloadableRegistration>();
        DateTime? newest = since;
        foreach (var raw in raws)
        {
            var (registration, fault) = PuppetDocument.Read(raw);
            if (registration is not null)
            {
                loaded.Add(registration);
            }
            else
            {
                unloadable.Add(fault!);
            }
            newest = RegistryChanges.Newest(newest, PuppetDocument.MarkerOf(raw));
        }
        return new RegistryChanges(loaded, unloadable, newest, Complete: since is null);
    }

    public async Task PingAsync(CancellationToken cancellationToken) =>
        await _collection.Database.RunCommandAsync<BsonDocument>(
            new BsonDocument("ping", 1), cancellationToken: cancellationToken);

    public void Dispose()
    {
        // The client is shared by the stores and lives as long as the process (see MongoConnection).
    }

    private async Task<PuppetRegistration> UpsertOnceAsync(PuppetRegistration registration, CancellationToken cancellationToken)
    {
        var document = await _collection.FindOneAndUpdateAsync(
            Filters.ByKfId(registration.KfId), Updates.Upsert(registration), UpsertOptions, cancellationToken);
        return document.ToRegistration();
    }

    private static class Filters
    {
        public static FilterDefinition<PuppetDocument> All => Builders<PuppetDocument>.Filter.Empty;

        public static FilterDefinition<PuppetDocument> ByKfId(string kfId) =>
            Builders<PuppetDocument>.Filter.Eq(d => d.KfId, kfId);

        public static FilterDefinition<PuppetDocument> ChangedSince(DateTime marker) =>
            Builders<PuppetDocument>.Filter.Gte(d => d.UpdatedAt, marker);

        public static FilterDefinition<PuppetDocument> ByKfIdInCorp(string kfId, string corpId) =>
            Builders<PuppetDocument>.Filter.Eq(d => d.KfId, kfId) & Builders<PuppetDocument>.Filter.Eq(d => d.CorpId, corpId);

        /// <summary>Still online with the registration that was read: no instance registered since.</summary>
        public static FilterDefinition<PuppetDocument> StillLatest(PuppetRegistration seen) =>
            ByKfIdInCorp(seen.KfId, seen.CorpId)
            & Builders<PuppetDocument>.Filter.Eq(d => d.Online, true)
            & Builders<PuppetDocument>.Filter.Eq(d => d.RegisteredAt, seen.RegisteredAt);
    }

    private static class Updates
    {
        /// <summary>
        /// Writes the registration and marks it online; lastOnlineDate only on insert, so registering again
        /// keeps when the puppet last went offline (as the SQLite store does).
        /// </summary>
        public static UpdateDefinition<PuppetDocument> Upsert(PuppetRegistration registration) =>
            Builders<PuppetDocument>.Update
                .Set(d => d.KfId, registration.KfId)
                .Set(d => d.KfName, registration.KfName)
                .Set(d => d.Endpoint, registration.Endpoint)
                .Set(d => d.CorpId, registration.CorpId)
                .Set(d => d.CorpSecret, registration.CorpSecret)
                .Set(d => d.Token, registration.Token)
                .Set(d => d.EncodingAesKey, registration.EncodingAesKey)
                .Set(d => d.Online, true)
                .Set(d => d.RegisteredAt, registration.RegisteredAt)
                .Set(d => d.Instances, registration.Instances.Select(PuppetInstanceDocument.From).ToList())
                .SetOnInsert(d => d.LastOnlineDate, registration.LastOnlineDate)
                .CurrentDate(d => d.UpdatedAt);

        public static UpdateDefinition<PuppetDocument> MarkOffline(DateTime at) =>
            Builders<PuppetDocument>.Update
                .Set(d => d.Online, false)
                .Set(d => d.LastOnlineDate, at)
                .CurrentDate(d => d.UpdatedAt);
    }
}
