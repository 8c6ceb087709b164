using Microsoft.Extensions.Options;
using MongoDB.Bson;
using MongoDB.Driver;
using WxkfManager.Settings;
using WxkfManager.Registry;
using WxkfManager.Delivery;

namespace WxkfManager.Storage.Mongo;

/// <summary>
/// The delivery queue shared by several manager replicas, in the registry's database. Each claim is one
/// atomic find-and-modify, so two workers never lease the same record; a claim's lease is timed by the server's
/// clock (<c>$$NOW</c>), so replicas with skewed clocks agree on when it ends (a record inserted leased by the
/// replica that accepted it carries that replica's lease end as given). Finished records carry
/// <c>purgeAt</c> and a TTL index removes them, so no replica runs a purge loop. Enqueues and completions
/// are grouped (see MongoDeliveryStore.Groups.cs).
/// </summary>
public sealed partial class MongoDeliveryStore : IDeliveryStore, IDisposable, IAsyncDisposable
{
    public const string CollectionName = "wxkfdeliveries";

    private const string TokenKeyIndexName = "tokenKey_1";
    private const string SignatureKeyIndexName = "signatureKey_1";
    private const string DueIndexName = "state_1_nextAttemptAt_1";
    private const string CompletedIndexName = "state_1_completedAt_1";
    private const string PuppetIndexName = "kfId_1_state_1";
    private const string OldestPendingIndexName = "state_1_receivedAt_1";
    private const string PurgeIndexName = "purgeAt_1";

    internal static readonly FindOneAndUpdateOptions<DeliveryDocument> ClaimOptions =
        new() { Sort = Sorts.DueFirst, ReturnDocument = ReturnDocument.After };

    /// <summary>
    /// Putting off reads the due range of the due index: with the puppets' ids in the filter the planner may take the
    /// per-puppet index instead, which reads every event already put off, on every claim.
    /// </summary>
    internal static readonly UpdateOptions PutOffOptions = new() { Hint = DueIndexName };

    private static readonly FindOneAndUpdateOptions<DeliveryDocument> ProbeOptions =
        new() { Sort = Sorts.OldestReceivedFirst, ReturnDocument = ReturnDocument.After };

    private readonly IMongoCollection<DeliveryDocument> _collection;
    private readonly ILogger<MongoDeliveryStore> _logger;
    private readonly DeliveryOptions _retention;
    private readonly MongoBatchWriter<DeliveryRecord, EnqueueOutcome> _inserts;
    private readonly MongoBatchWriter<LeasedUpdate> _completions;

    public MongoDeliveryStore(IOptions<StorageOptions> options, ILogger<MongoDeliveryStore> logger)
        : this(options, Options.Create(new DeliveryOptions()), logger)
    {
    }

    [ActivatorUtilitiesConstructor]
    public MongoDeliveryStore(IOptions<StorageOptions> options, IOptions<DeliveryOptions> delivery, ILogger<MongoDeliveryStore> logger)
    {
        _collection = MongoConnection.Open<DeliveryDocument>(options, CollectionName);
        _logger = logger;
        _retention = delivery.Value;
        _inserts = new MongoBatchWriter<DeliveryRecord, EnqueueOutcome>(InsertGroupAsync);
        _completions = new MongoBatchWriter<LeasedUpdate>(CompleteGroupAsync);
    }

    internal IMongoCollection<DeliveryDocument> Collection => _collection;

    internal static IReadOnlyList<CreateIndexModel<DeliveryDocument>> Indexes { get; } =
    [
        new(Builders<DeliveryDocument>.IndexKeys.Ascending(d => d.TokenKey),
            new CreateIndexOptions { Name = TokenKeyIndexName, Unique = true }),
        // Decrypted callbacks have no signature; only documents with one take part in its uniqueness.
        new(Builders<DeliveryDocument>.IndexKeys.Ascending(d => d.SignatureKey),
            new CreateIndexOptions<DeliveryDocument>
            {
                Name = SignatureKeyIndexName,
                Unique = true,
                PartialFilterExpression = Builders<DeliveryDocument>.Filter.Type(d => d.SignatureKey, "string"),
            }),
        new(Builders<DeliveryDocument>.IndexKeys.Ascending(d => d.State).Ascending(d => d.NextAttemptAt),
            new CreateIndexOptions { Name = DueIndexName }),
        new(Builders<DeliveryDocument>.IndexKeys.Ascending(d => d.State).Ascending(d => d.CompletedAt),
            new CreateIndexOptions { Name = CompletedIndexName }),
        new(Builders<DeliveryDocument>.IndexKeys.Ascending(d => d.KfId).Ascending(d => d.State),
            new CreateIndexOptions { Name = PuppetIndexName }),
        // The oldest pending event, read on every metrics scrape and /operator/queue.
        new(Builders<DeliveryDocument>.IndexKeys.Ascending(d => d.State).Ascending(d => d.ReceivedAt),
            new CreateIndexOptions { Name = OldestPendingIndexName }),
        // MongoDB removes a finished record once its purgeAt passes (checked about once a minute).
        new(Builders<DeliveryDocument>.IndexKeys.Ascending(d => d.PurgeAt),
            new CreateIndexOptions { Name = PurgeIndexName, ExpireAfter = TimeSpan.Zero }),
    ];

    public async Task InitializeAsync(CancellationToken cancellationToken) =>
        await _collection.Indexes.CreateManyAsync(Indexes, cancellationToken);

    /// <summary>
    /// Stores the record as given, a lease included: the replica that accepted it may hold it (one claim counted)
    /// to deliver it from memory, and others claim it only once that lease has passed.
    /// </summary>
    public Task<EnqueueOutcome> EnqueueAsync(DeliveryRecord record, CancellationToken cancellationToken) =>
        _inserts.WriteAsync(record, cancellationToken);

    public Task<IReadOnlyList<DeliveryRecord>> ClaimDueAsync(string owner, int max, DateTime now, TimeSpan lease, CancellationToken cancellationToken) =>
        ClaimDueAsync(owner, max, now, lease, [], cancellationToken);

    public async Task<IReadOnlyList<DeliveryRecord>> ClaimDueAsync(
        string owner, int max, DateTime now, TimeSpan lease, IReadOnlyCollection<string> waitingKfIds, CancellationToken cancellationToken)
    {
        // A lease ending within the millisecond it starts (BSON's precision) would leave the record due,
        // and the next find in this loop would lease it again.
        ArgumentOutOfRangeException.ThrowIfLessThan(lease, TimeSpan.FromMilliseconds(1));
        var filter = Filters.DueExcept(now, waitingKfIds);
        var claimed = new List<DeliveryRecord>();
        // A negative max is no limit, as SQLite reads LIMIT.
        while (max < 0 || claimed.Count < max)
        {
            var document = await _collection.FindOneAndUpdateAsync(
                filter, Updates.Claim(LeaseToken.New(owner), lease), ClaimOptions, cancellationToken);
            if (document is null)
            {
                break;
            }
            claimed.Add(document.ToRecord());
        }
        return claimed;
    }

    public async Task<DeliveryRecord?> ClaimOldestForPuppetAsync(string owner, string kfId, DateTime now, TimeSpan lease, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(lease, TimeSpan.FromMilliseconds(1));
        var document = await _collection.FindOneAndUpdateAsync(
            Filters.ProbeableFor(kfId), Updates.Claim(LeaseToken.New(owner), lease), ProbeOptions, cancellationToken);
        return document?.ToRecord();
    }

    public async Task<int> ParkAsync(IReadOnlyCollection<string> kfIds, DateTime now, DateTime until, CancellationToken cancellationToken)
    {
        if (kfIds.Count == 0)
        {
            return 0;
        }
        var result = await _collection.UpdateManyAsync(Filters.DueToPutOff(now, kfIds), Updates.PutOffUntil(until), PutOffOptions, cancellationToken);
        return (int)result.ModifiedCount;
    }

    public async Task<int> WakeAsync(string kfId, DateTime now, CancellationToken cancellationToken)
    {
        var result = await _collection.UpdateManyAsync(Filters.WaitingFor(kfId, now), Updates.DueAt(now), cancellationToken: cancellationToken);
        return (int)result.ModifiedCount;
    }

    public async Task<int> WakeAllAsync(DateTime now, CancellationToken cancellationToken)
    {
        var result = await _collection.UpdateManyAsync(Filters.Waiting(now), Updates.DueAt(now), cancellationToken: cancellationToken);
        return (int)result.ModifiedCount;
    }

    public async Task<IReadOnlyDictionary<string, int>> CountPendingByPuppetAsync(CancellationToken cancellationToken)
    {
        var groups = await _collection.Aggregate()
            .Match(Filters.InState(DeliveryState.Pending))
            .Group(d => d.KfId, g => new { KfId = g.Key, Count = g.Count() })
            .ToListAsync(cancellationToken);
        return groups.ToDictionary(g => g.KfId, g => g.Count, StringComparer.Ordinal);
    }

    public Task<bool> MarkDeliveredAsync(string id, string owner, int attempts, DateTime at, CancellationToken cancellationToken) =>
        _completions.WriteAsync(new LeasedUpdate(id, owner, Updates.Delivered(attempts, at, at + _retention.DeliveredRetention)), cancellationToken);

    public Task<bool> RescheduleAsync(string id, string owner, int attempts, DateTime nextAttemptAt, string error, CancellationToken cancellationToken) =>
        _completions.WriteAsync(new LeasedUpdate(id, owner, Updates.Rescheduled(attempts, nextAttemptAt, error)), cancellationToken);

    public Task<bool> DeadLetterAsync(string id, string owner, int attempts, string reason, DateTime at, CancellationToken cancellationToken) =>
        _completions.WriteAsync(new LeasedUpdate(id, owner, Updates.DeadLettered(attempts, reason, at, at + _retention.DeadLetterRetention)), cancellationToken);

    public async Task<int> HandBackAsync(IReadOnlyList<DeliveryRecord> held, DateTime? putOffUntil, CancellationToken cancellationToken)
    {
        // Only leases named by their token: a filter on a null token would match events no one holds.
        var leased = held.Where(r => r.LeaseOwner is not null).ToArray();
        if (leased.Length == 0)
        {
            return 0;
        }
        var update = Updates.HandedBack(putOffUntil);
        var result = await _collection.BulkWriteAsync(
            leased.Select(r => new UpdateOneModel<DeliveryDocument>(Filters.LeasedBy(r.Id, r.LeaseOwner!), update)), UnorderedBulkWrite, cancellationToken);
        return (int)result.ModifiedCount;
    }

    public async Task<bool> RenewLeaseAsync(string id, string leaseToken, DateTime until, CancellationToken cancellationToken) =>
        (await _collection.UpdateOneAsync(Filters.LeasedBy(id, leaseToken), Builders<DeliveryDocument>.Update.Set(d => d.LeaseUntil, until),
            cancellationToken: cancellationToken)).ModifiedCount == 1;

    public async Task<int> CountQueuedAsync(string kfId, CancellationToken cancellationToken) =>
        (int)await _collection.CountDocumentsAsync(Filters.QueuedFor(kfId), cancellationToken: cancellationToken);

    public async Task<DeliveryQueueStats> GetStatsAsync(DateTime now, CancellationToken cancellationToken)
    {
        var pending = _collection.CountDocumentsAsync(Filters.PendingUnleased(now), cancellationToken: cancellationToken);
        var leased = _collection.CountDocumentsAsync(Filters.PendingLeased(now), cancellationToken: cancellationToken);
        var dead = _collection.CountDocumentsAsync(Filters.InState(DeliveryState.Dead), cancellationToken: cancellationToken);
        var delivered = _collection.CountDocumentsAsync(Filters.InState(DeliveryState.Delivered), cancellationToken: cancellationToken);
        var oldest = _collection.Find(Filters.InState(DeliveryState.Pending))
            .Sort(Sorts.OldestReceivedFirst)
            .Project<DeliveryDocument>(Projections.ReceivedAtOnly)
            .Limit(1)
            .FirstOrDefaultAsync(cancellationToken);
        await Task.WhenAll(pending, leased, dead, delivered, oldest);
        return new DeliveryQueueStats(
            (int)await pending, (int)await leased, (int)await dead, (int)await delivered, (await oldest)?.ReceivedAt);
    }

    public async Task<IReadOnlyList<DeliveryRecord>> ListDeadLettersAsync(int limit, CancellationToken cancellationToken)
    {
        // As SQLite reads LIMIT: 0 is none, a negative one no limit (MongoDB's limit 0 would be all).
        if (limit == 0)
        {
            return [];
        }
        var documents = await _collection.Find(Filters.InState(DeliveryState.Dead))
            .Sort(Sorts.LatestCompletedFirst)
            .Limit(limit > 0 ? limit : null)
            .ToListAsync(cancellationToken);
        return documents.ConvertAll(d => d.ToRecord());
    }

    public async Task<DeliveryRecord?> FindAsync(string id, CancellationToken cancellationToken)
    {
        var document = await _collection.Find(Filters.ById(id)).FirstOrDefaultAsync(cancellationToken);
        return document?.ToRecord();
    }

    public async Task<bool> ReplayAsync(string id, DateTime now, DateTime expiresAt, CancellationToken cancellationToken)
    {
        var result = await _collection.UpdateOneAsync(
            Filters.DeadLetter(id), Updates.Replay(now, expiresAt), cancellationToken: cancellationToken);
        return result.MatchedCount == 1;
    }

    public async Task<int> ReplayAllAsync(DateTime now, DateTime expiresAt, CancellationToken cancellationToken)
    {
        var result = await _collection.UpdateManyAsync(
            Filters.InState(DeliveryState.Dead), Updates.Replay(now, expiresAt), cancellationToken: cancellationToken);
        return (int)result.MatchedCount;
    }

    public async Task<int> ReleaseForPuppetAsync(string kfId, DateTime now, DateTime receivedSince, DateTime expiresAt, CancellationToken cancellationToken)
    {
        var waiting = await _collection.UpdateManyAsync(
            Filters.WaitingFor(kfId, now), Updates.DueAt(now), cancellationToken: cancellationToken);
        var revived = await _collection.UpdateManyAsync(
            Filters.DeadFor(kfId, receivedSince), Updates.Replay(now, expiresAt), cancellationToken: cancellationToken);
        return (int)(waiting.ModifiedCount + revived.ModifiedCount);
    }

    /// <summary>
    /// The TTL index removes records with purgeAt; this removes only those finished before the field existed
    /// (an indexed query that soon matches nothing).
    /// </summary>
    public async Task<int> PurgeAsync(DateTime deliveredBefore, DateTime deadBefore, CancellationToken cancellationToken)
    {
        var result = await _collection.DeleteManyAsync(Filters.PurgeableWithoutTtl(deliveredBefore, deadBefore), cancellationToken);
        return (int)result.DeletedCount;
    }

    private DateTime PurgeAt(DeliveryState state, DateTime completedAt) =>
        completedAt + (state == DeliveryState.Delivered ? _retention.DeliveredRetention : _retention.DeadLetterRetention);

    /// <summary>Writes what callers already queued, then stops (the shared client stays, see MongoConnection).</summary>
    public async ValueTask DisposeAsync()
    {
        await _inserts.DisposeAsync();
        await _completions.DisposeAsync();
    }

    /// <summary>Takes no more writes; a group still on the wire fails its callers.</summary>
    public void Dispose()
    {
        _inserts.Complete();
        _completions.Complete();
    }

    internal static class Filters
    {
        private static FilterDefinitionBuilder<DeliveryDocument> Filter => Builders<DeliveryDocument>.Filter;

        public static FilterDefinition<DeliveryDocument> ById(string id) => Filter.Eq(d => d.Id, id);

        public static FilterDefinition<DeliveryDocument> InState(DeliveryState state) => Filter.Eq(d => d.State, state);

        public static FilterDefinition<DeliveryDocument> AnyOf(IEnumerable<string> ids) => Filter.In(d => d.Id, ids);

        /// <summary>
        /// Pending, due, and not leased (never, or the lease ran out by the server's clock, as it was set).
        /// Null also matches a missing field.
        /// </summary>
        public static FilterDefinition<DeliveryDocument> Due(DateTime now) =>
            InState(DeliveryState.Pending)
            & Filter.Lte(d => d.NextAttemptAt, now)
            & (Filter.Eq(d => d.LeaseUntil, null) | LeaseEndedByServerClock);

        private static FilterDefinition<DeliveryDocument> LeaseEndedByServerClock { get; } =
            new BsonDocumentFilterDefinition<DeliveryDocument>(
                new BsonDocument("$expr", new BsonDocument("$lte", new BsonArray { "$leaseUntil", "$$NOW" })));

        /// <summary>Due, except the events of puppets that wait for a probe, unless those ran out of time.</summary>
        public static FilterDefinition<DeliveryDocument> DueExcept(DateTime now, IReadOnlyCollection<string> waitingKfIds) =>
            waitingKfIds.Count == 0
                ? Due(now)
                : Due(now) & (Filter.Nin(d => d.KfId, waitingKfIds) | Filter.Lte(d => d.ExpiresAt, now));

        /// <summary>The puppet's pending events no worker holds, due or put off: what a probe may take.</summary>
        public static FilterDefinition<DeliveryDocument> ProbeableFor(string kfId) =>
            Filter.Eq(d => d.KfId, kfId) & InState(DeliveryState.Pending) & (Filter.Eq(d => d.LeaseUntil, null) | LeaseEndedByServerClock);

        /// <summary>Due events of puppets that stopped answering, not yet past their age limit (those go to the dead letters instead).</summary>
        public static FilterDefinition<DeliveryDocument> DueToPutOff(DateTime now, IReadOnlyCollection<string> kfIds) =>
            Due(now) & Filter.In(d => d.KfId, kfIds) & Filter.Gt(d => d.ExpiresAt, now);

        /// <summary>An earlier copy of the record (same token or signature key) that was given up on.</summary>
        public static FilterDefinition<DeliveryDocument> DeadCopyOf(DeliveryRecord record) =>
            InState(DeliveryState.Dead)
            & (record.SignatureKey is null
                ? Filter.Eq(d => d.TokenKey, record.TokenKey)
                : Filter.Eq(d => d.TokenKey, record.TokenKey) | Filter.Eq(d => d.SignatureKey, record.SignatureKey));

        /// <summary>The record, still pending, still leased to <paramref name="owner"/>: a worker whose lease was taken over matches nothing.</summary>
        public static FilterDefinition<DeliveryDocument> LeasedBy(string id, string owner) =>
            ById(id) & InState(DeliveryState.Pending) & Filter.Eq(d => d.LeaseOwner, owner);

        public static FilterDefinition<DeliveryDocument> DeadLetter(string id) => ById(id) & InState(DeliveryState.Dead);

        /// <summary>A puppet's pending events that wait for a later attempt and no worker holds.</summary>
        public static FilterDefinition<DeliveryDocument> WaitingFor(string kfId, DateTime now) => Filter.Eq(d => d.KfId, kfId) & Waiting(now);

        /// <summary>Pending events that wait for a later attempt and no worker holds.</summary>
        public static FilterDefinition<DeliveryDocument> Waiting(DateTime now) => PendingUnleased(now) & Filter.Gt(d => d.NextAttemptAt, now);

        public static FilterDefinition<DeliveryDocument> DeadFor(string kfId, DateTime receivedSince) =>
            Filter.Eq(d => d.KfId, kfId) & InState(DeliveryState.Dead) & Filter.Gte(d => d.ReceivedAt, receivedSince);

        public static FilterDefinition<DeliveryDocument> QueuedFor(string kfId) => Filter.Eq(d => d.KfId, kfId) & InState(DeliveryState.Pending);

        public static FilterDefinition<DeliveryDocument> PendingUnleased(DateTime now) =>
            InState(DeliveryState.Pending) & (Filter.Eq(d => d.LeaseUntil, null) | Filter.Lte(d => d.LeaseUntil, now));

        public static FilterDefinition<DeliveryDocument> PendingLeased(DateTime now) =>
            InState(DeliveryState.Pending) & Filter.Gt(d => d.LeaseUntil, now);

        public static FilterDefinition<DeliveryDocument> Purgeable(DateTime deliveredBefore, DateTime deadBefore) =>
            (InState(DeliveryState.Delivered) & Filter.Lt(d => d.CompletedAt, deliveredBefore))
            | (InState(DeliveryState.Dead) & Filter.Lt(d => d.CompletedAt, deadBefore));

        public static FilterDefinition<DeliveryDocument> PurgeableWithoutTtl(DateTime deliveredBefore, DateTime deadBefore) =>
            Purgeable(deliveredBefore, deadBefore) & Filter.Exists(d => d.PurgeAt, false);
    }

    internal static class Updates
    {
        private static UpdateDefinitionBuilder<DeliveryDocument> Update => Builders<DeliveryDocument>.Update;

        /// <summary>
        /// A claim: this claim's own lease token, a lease ending <paramref name="lease"/> after the server's
        /// now, and one more claim counted before anything is sent (so a crash mid-delivery still counts).
        /// </summary>
        public static UpdateDefinition<DeliveryDocument> Claim(string leaseToken, TimeSpan lease) =>
            Update.Pipeline(new BsonDocumentStagePipelineDefinition<DeliveryDocument, DeliveryDocument>(
            [
                new BsonDocument("$set", new BsonDocument
                {
                    { "leaseOwner", leaseToken },
                    { "leaseUntil", new BsonDocument("$add", new BsonArray { "$$NOW", (long)lease.TotalMilliseconds }) },
                    { "claims", new BsonDocument("$add", new BsonArray { new BsonDocument("$ifNull", new BsonArray { "$claims", 0 }), 1 }) },
                }),
            ]));

        public static UpdateDefinition<DeliveryDocument> Delivered(int attempts, DateTime at, DateTime purgeAt) =>
            Update
                .Set(d => d.State, DeliveryState.Delivered)
                // Only the keys are needed now, to recognise resends while the record is kept.
                .Set(d => d.Body, "")
                .Set(d => d.Attempts, attempts)
                .Set(d => d.CompletedAt, at)
                .Set(d => d.LastError, null)
                .Set(d => d.PurgeAt, purgeAt);

        public static UpdateDefinition<DeliveryDocument> Rescheduled(int attempts, DateTime nextAttemptAt, string error) =>
            Update
                .Set(d => d.Attempts, attempts)
                .Set(d => d.NextAttemptAt, nextAttemptAt)
                .Set(d => d.LastError, error);

        public static UpdateDefinition<DeliveryDocument> DeadLettered(int attempts, string reason, DateTime at, DateTime purgeAt) =>
            Update
                .Set(d => d.State, DeliveryState.Dead)
                .Set(d => d.Attempts, attempts)
                .Set(d => d.LastError, reason)
                .Set(d => d.CompletedAt, at)
                .Set(d => d.PurgeAt, purgeAt);

        /// <summary>
        /// What a worker finishing its leased record writes: the lease ends, and so does the run of unfinished claims.
        /// The lease it finished stays, so a grouped write can tell afterwards whose completions applied.
        /// </summary>
        public static UpdateDefinition<DeliveryDocument> ReleasingLease(UpdateDefinition<DeliveryDocument> update, string leaseToken) =>
            Update.Combine(
                update,
                Update.Set(d => d.LeaseOwner, null).Set(d => d.LeaseUntil, null).Set(d => d.Claims, 0).Set(d => d.FinishedLease, leaseToken));

        public static UpdateDefinition<DeliveryDocument> DueAt(DateTime at) => Update.Set(d => d.NextAttemptAt, at);

        /// <summary>Due at <paramref name="until"/>, or at the record's age limit if that comes first.</summary>
        public static UpdateDefinition<DeliveryDocument> PutOffUntil(DateTime until) =>
            Update.Pipeline(new BsonDocumentStagePipelineDefinition<DeliveryDocument, DeliveryDocument>(
            [
                new BsonDocument("$set", new BsonDocument("nextAttemptAt", new BsonDocument("$min", new BsonArray { new BsonDateTime(until), "$expiresAt" }))),
            ]));

        /// <summary>
        /// A lease handed back unstarted: it ends without counting as a crashed claim. The event stays due as it was, or is
        /// put off until <paramref name="putOffUntil"/>: never earlier than it was due, nor past its age limit.
        /// </summary>
        public static UpdateDefinition<DeliveryDocument> HandedBack(DateTime? putOffUntil)
        {
            var set = new BsonDocument
            {
                { "leaseOwner", BsonNull.Value },
                { "leaseUntil", BsonNull.Value },
                {
                    "claims", new BsonDocument("$max", new BsonArray
                    {
                        new BsonDocument("$subtract", new BsonArray { new BsonDocument("$ifNull", new BsonArray { "$claims", 0 }), 1 }), 0,
                    })
                },
            };
            if (putOffUntil is { } until)
            {
                set["nextAttemptAt"] = new BsonDocument("$max", new BsonArray
                {
                    "$nextAttemptAt", new BsonDocument("$min", new BsonArray { new BsonDateTime(until), "$expiresAt" }),
                });
            }
            return Update.Pipeline(new BsonDocumentStagePipelineDefinition<DeliveryDocument, DeliveryDocument>([new BsonDocument("$set", set)]));
        }

        /// <summary>A dead letter repeated by its sender: queued again as the new copy says.</summary>
        public static UpdateDefinition<DeliveryDocument> Revive(DeliveryRecord record) =>
            Update.Combine(Replay(record.NextAttemptAt, record.ExpiresAt), Update.Set(d => d.ReceivedAt, record.ReceivedAt));

        /// <summary>Due now, a fresh count and age limit; the last error stays for whoever looks.</summary>
        public static UpdateDefinition<DeliveryDocument> Replay(DateTime now, DateTime expiresAt) =>
            Update
                .Set(d => d.State, DeliveryState.Pending)
                .Set(d => d.Attempts, 0)
                .Set(d => d.NextAttemptAt, now)
                .Set(d => d.ExpiresAt, expiresAt)
                .Set(d => d.LeaseOwner, null)
                .Set(d => d.LeaseUntil, null)
                .Set(d => d.CompletedAt, null)
                .Set(d => d.Claims, 0)
                .Unset(d => d.PurgeAt);
    }

    internal static class Sorts
    {
        public static SortDefinition<DeliveryDocument> DueFirst { get; } = Builders<DeliveryDocument>.Sort.Ascending(d => d.NextAttemptAt);

        public static SortDefinition<DeliveryDocument> LatestCompletedFirst { get; } = Builders<DeliveryDocument>.Sort.Descending(d => d.CompletedAt);

        public static SortDefinition<DeliveryDocument> OldestReceivedFirst { get; } = Builders<DeliveryDocument>.Sort.Ascending(d => d.ReceivedAt);
    }

    private static class Projections
    {
        public static ProjectionDefinition<DeliveryDocument> ReceivedAtOnly { get; } =
            Builders<DeliveryDocument>.Projection.Include(d => d.ReceivedAt);

        public static ProjectionDefinition<DeliveryDocument> FinishedLeaseOnly { get; } =
            Builders<DeliveryDocument>.Projection.Include(d => d.FinishedLease);
    }
}
