using Microsoft.Extensions.Options;
using Microsoft.Extensions.Logging.Abstractions;
using MongoDB.Bson;
using MongoDB.Driver;
using WxkfManager.Delivery;
using WxkfManager.Settings;
using WxkfManager.Tests.Delivery;
using WxkfManager.Storage.Mongo;

namespace WxkfManager.IntegrationTests.Delivery;

/// <summary>The delivery store contract on a real server; each test gets a fresh database, so an empty queue.</summary>
public sealed class MongoDeliveryStoreTests(MongoFixture fixture)
    : DeliveryStoreContract, IClassFixture<MongoFixture>, IDisposable
{
    private readonly List<MongoDeliveryStore> _stores = [];

    protected override async Task<IDeliveryStore> CreateStoreAsync() => await CreateMongoStoreAsync(fixture.NewDatabaseUri());

    protected override bool LeasesUseStoreClock => true;

    [Fact]
    public async Task Initialize_IsIdempotent_AndCreatesTheQueueIndexes()
    {
        var uri = fixture.NewDatabaseUri();
        var store = await CreateMongoStoreAsync(uri);

        await store.InitializeAsync(Ct);
        await CreateMongoStoreAsync(uri);

        var indexes = await IndexesAsync(uri);
        Assert.Equal(
            ["_id_", "purgeAt_1", "signatureKey_1", "state_1_completedAt_1", "state_1_nextAttemptAt_1", "state_1_receivedAt_1", "tokenKey_1"],
            indexes.Keys.Order(StringComparer.Ordinal));
        Assert.True(indexes["tokenKey_1"]["unique"].AsBoolean);
        Assert.True(indexes["signatureKey_1"]["unique"].AsBoolean);
        Assert.Equal(
            new BsonDocument("signatureKey", new BsonDocument("$type", "string")),
            indexes["signatureKey_1"]["partialFilterExpression"]);
        Assert.Equal(new BsonDocument { { "state", 1 }, { "nextAttemptAt", 1 } }, indexes["state_1_nextAttemptAt_1"]["key"]);
        Assert.Equal(new BsonDocument { { "state", 1 }, { "completedAt", 1 } }, indexes["state_1_completedAt_1"]["key"]);
    }

    [Fact]
    public async Task DecryptedRecords_WithoutASignatureKey_CoexistUnderThePartialUniqueIndex()
    {
        var uri = fixture.NewDatabaseUri();
        var store = await CreateMongoStoreAsync(uri);
        var first = NewRecord(decrypted: true);
        var second = NewRecord(decrypted: true);

        Assert.True(await store.TryEnqueueAsync(first, Ct));
        Assert.True(await store.TryEnqueueAsync(second, Ct));

        var raw = await Raw(uri).Find(FilterDefinition<BsonDocument>.Empty).ToListAsync(Ct);
        Assert.Equal(2, raw.Count);
        Assert.All(raw, document => Assert.False(document.Contains("signatureKey")));
        Assert.Equal(first, await store.FindAsync(first.Id, Ct));
        Assert.Equal(second, await store.FindAsync(second.Id, Ct));
    }

    [Fact]
    public async Task Enqueue_WritesCamelCaseFields_StringStates_AndBsonDates()
    {
        var uri = fixture.NewDatabaseUri();
        var store = await CreateMongoStoreAsync(uri);
        var record = NewRecord();

        await store.TryEnqueueAsync(record, Ct);
        var claimedAt = DateTime.UtcNow;
        await store.ClaimDueAsync("worker-a", 1, T0, TimeSpan.FromSeconds(30), Ct);

        var raw = await Raw(uri).Find(new BsonDocument("_id", record.Id)).SingleAsync(Ct);
        Assert.Equal(BsonType.String, raw["_id"].BsonType);
        Assert.Equal("Encrypted", raw["kind"].AsString);
        Assert.Equal("Pending", raw["state"].AsString);
        Assert.Equal(record.SignatureKey, raw["signatureKey"].AsString);
        Assert.Equal(record.TokenKey, raw["tokenKey"].AsString);
        Assert.Equal(record.Query!.MsgSignature, raw["msgSignature"].AsString);
        Assert.Equal(new BsonDateTime(T0), raw["receivedAt"]);
        Assert.Equal(new BsonDateTime(T0), raw["nextAttemptAt"]);
        Assert.StartsWith("worker-a/", raw["leaseOwner"].AsString);
        // The lease ends by the server's clock, whatever time the worker passed.
        Assert.InRange(raw["leaseUntil"].ToUniversalTime(), claimedAt.AddSeconds(25), claimedAt.AddSeconds(35));
        Assert.Equal(1, raw["claims"].AsInt32);
    }

    [Fact]
    public async Task FinishedRecords_CarryPurgeAt_ForTheTtlIndex_AndThePurgeLoopLeavesThemToIt()
    {
        var uri = fixture.NewDatabaseUri();
        var store = await CreateMongoStoreAsync(uri);
        var delivered = NewRecord();
        var deadOnArrival = NewRecord(state: DeliveryState.Dead);
        await store.TryEnqueueAsync(delivered, Ct);
        await store.TryEnqueueAsync(deadOnArrival, Ct);
        var claimed = await store.ClaimDueAsync("worker-a", 1, T0, TimeSpan.FromSeconds(30), Ct);
        Assert.True(await store.MarkDeliveredAsync(delivered.Id, TokenOf(claimed, delivered.Id), 1, T0, Ct));

        var retention = new DeliveryOptions();
        var rawDelivered = await Raw(uri).Find(new BsonDocument("_id", delivered.Id)).SingleAsync(Ct);
        var rawDead = await Raw(uri).Find(new BsonDocument("_id", deadOnArrival.Id)).SingleAsync(Ct);
        Assert.Equal(T0 + retention.DeliveredRetention, rawDelivered["purgeAt"].ToUniversalTime());
        Assert.Equal(T0 + retention.DeadLetterRetention, rawDead["purgeAt"].ToUniversalTime());
        Assert.Equal(0, await store.PurgeAsync(T0.AddDays(30), T0.AddDays(30), Ct));
        var ttl = (await IndexesAsync(uri))["purgeAt_1"];
        Assert.Equal(0, ttl["expireAfterSeconds"].ToInt32());
    }

    [Fact]
    public async Task ACompletionGroup_WhereSomeLeasesWereTakenOver_AnswersEachCompletionByItsOwnLease()
    {
        var store = await CreateMongoStoreAsync(fixture.NewDatabaseUri());
        var records = Enumerable.Range(0, 4).Select(i => NewRecord(T0.AddMilliseconds(i))).ToList();
        foreach (var record in records)
        {
            await store.TryEnqueueAsync(record, Ct);
        }
        var claimed = await store.ClaimDueAsync("worker-a", 4, T0, TimeSpan.FromSeconds(30), Ct);
        var group = new[]
        {
            new MongoDeliveryStore.LeasedUpdate(records[0].Id, TokenOf(claimed, records[0].Id), MongoDeliveryStore.Updates.Delivered(1, T0, T0.AddHours(1))),
            new MongoDeliveryStore.LeasedUpdate(records[1].Id, "worker-a/lost", MongoDeliveryStore.Updates.Delivered(1, T0, T0.AddHours(1))),
            new MongoDeliveryStore.LeasedUpdate(records[2].Id, TokenOf(claimed, records[2].Id), MongoDeliveryStore.Updates.Rescheduled(1, T0.AddSeconds(5), "HTTP 503")),
            new MongoDeliveryStore.LeasedUpdate("no-such-id", "worker-a/x", MongoDeliveryStore.Updates.Delivered(1, T0, T0.AddHours(1))),
        };

        // Called directly so that these four are one BulkWrite: matched (2) is not the group's size (4).
        var results = await store.CompleteGroupAsync(group);

        Assert.All(results, r => Assert.Null(r.Failure));
        Assert.Equal([true, false, true, false], results.Select(r => r.Value));
        Assert.Equal(DeliveryState.Delivered, (await store.FindAsync(records[0].Id, Ct))!.State);
        Assert.StartsWith("worker-a/", (await store.FindAsync(records[1].Id, Ct))!.LeaseOwner);
        Assert.Equal(T0.AddSeconds(5), (await store.FindAsync(records[2].Id, Ct))!.NextAttemptAt);
    }

    [Fact]
    public async Task AGroupOfEnqueues_WithResendsOfAQueuedAndOfADeadEvent_AnswersEachAndRevivesTheDeadCopy()
    {
        var store = await CreateMongoStoreAsync(fixture.NewDatabaseUri());
        var queued = NewRecord();
        var dead = NewRecord(state: DeliveryState.Dead);
        await store.TryEnqueueAsync(queued, Ct);
        await store.TryEnqueueAsync(dead, Ct);
        var fresh = NewRecord();
        var resendOfQueued = NewRecord() with { Query = queued.Query, SignatureKey = queued.SignatureKey };
        var resendOfDead = NewRecord(decrypted: true) with { KfId = dead.KfId, TokenKey = dead.TokenKey, NextAttemptAt = T0.AddMinutes(1) };
        var twiceInTheGroup = NewRecord() with { Query = fresh.Query, SignatureKey = fresh.SignatureKey };

        var answers = await Task.WhenAll(new[] { fresh, resendOfQueued, resendOfDead, twiceInTheGroup }.Select(r => store.TryEnqueueAsync(r, Ct)));

        Assert.Equal([true, false, true, false], answers);
        Assert.Equal((DeliveryState.Pending, T0.AddMinutes(1)), ((await store.FindAsync(dead.Id, Ct))!.State, (await store.FindAsync(dead.Id, Ct))!.NextAttemptAt));
        Assert.Null(await store.FindAsync(resendOfDead.Id, Ct));
        Assert.Null(await store.FindAsync(twiceInTheGroup.Id, Ct));
    }

    public void Dispose()
    {
        foreach (var store in _stores)
        {
            store.Dispose();
        }
    }

    private async Task<MongoDeliveryStore> CreateMongoStoreAsync(string uri)
    {
        var store = new MongoDeliveryStore(
            Options.Create(new StorageOptions { MongoUri = uri }),
            NullLogger<MongoDeliveryStore>.Instance);
        _stores.Add(store);
        await store.InitializeAsync(Ct);
        return store;
    }

    private IMongoCollection<BsonDocument> Raw(string uri) =>
        fixture.DatabaseFor(uri).GetCollection<BsonDocument>(MongoDeliveryStore.CollectionName);

    private async Task<Dictionary<string, BsonDocument>> IndexesAsync(string uri)
    {
        var cursor = await Raw(uri).Indexes.ListAsync(Ct);
        return (await cursor.ToListAsync(Ct)).ToDictionary(i => i["name"].AsString);
    }
}
