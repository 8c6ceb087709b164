using Microsoft.Extensions.Logging.Abstractions;
using MongoDB.Bson;
using MongoDB.Bson.Serialization;
using MongoDB.Driver;
using WxkfManager.Delivery;
using WxkfManager.Options;
using WxkfManager.Registry;

namespace WxkfManager.Tests.Delivery;

/// <summary>What <see cref="MongoDeliveryStore"/> sends to MongoDB and where, checked without a server.</summary>
public sealed class MongoDeliveryRenderingTests
{
    private static readonly RenderArgs<DeliveryDocument> Args =
        new(BsonSerializer.LookupSerializer<DeliveryDocument>(), BsonSerializer.SerializerRegistry);

    private static readonly DateTime At = new(2024, 5, 6, 7, 8, 9, 123, DateTimeKind.Utc);
    private const string AtJson = """{ "$date" : "2024-05-06T07:08:09.123Z" }""";
    private const string LaterJson = """{ "$date" : "2024-05-06T07:08:39.123Z" }""";

    [Fact]
    public void Collection_IsWxkfDeliveries_InTheRegistrysDatabase()
    {
        var options = Microsoft.Extensions.Options.Options.Create(new StorageOptions { MongoUri = "mongodb://127.0.0.1:27017/wxkf-prod" });
        using var store = new MongoDeliveryStore(options, NullLogger<MongoDeliveryStore>.Instance);
        using var registry = new MongoPuppetRegistry(options, NullLogger<MongoPuppetRegistry>.Instance);

        Assert.Equal("wxkfdeliveries", store.Collection.CollectionNamespace.CollectionName);
        Assert.Equal("wxkf-prod", store.Collection.Database.DatabaseNamespace.DatabaseName);
        Assert.Equal(registry.Collection.Database.DatabaseNamespace, store.Collection.Database.DatabaseNamespace);
    }

    [Theory]
    [InlineData("mongodb://user:pass@127.0.0.1:27017/tenant?authSource=admin", "tenant")]
    [InlineData("mongodb://127.0.0.1:27017", "test")]
    [InlineData("mongodb://127.0.0.1:27017/", "test")]
    public void Database_ComesFromTheUri_ElseTheOriginalsDefault(string uri, string database)
    {
        using var store = new MongoDeliveryStore(
            Microsoft.Extensions.Options.Options.Create(new StorageOptions { MongoUri = uri }),
            NullLogger<MongoDeliveryStore>.Instance);

        Assert.Equal(database, store.Collection.Database.DatabaseNamespace.DatabaseName);
    }

    [Theory]
    [InlineData(null)]
    [InlineData(" ")]
    public void MissingUri_IsRejected(string? uri)
    {
        Assert.Throws<InvalidOperationException>(() => new MongoDeliveryStore(
            Microsoft.Extensions.Options.Options.Create(new StorageOptions { MongoUri = uri }),
            NullLogger<MongoDeliveryStore>.Instance));
    }

    [Fact]
    public void EncryptedRecord_SerializesWithCamelCaseNames_StringEnums_AndBsonDates()
    {
        var record = DeliveryStoreContract.NewRecord() with
        {
            ReceivedAt = At,
            NextAttemptAt = At.AddSeconds(1),
            ExpiresAt = At.AddMinutes(10),
            Attempts = 2,
            LeaseOwner = "worker-a",
            LeaseUntil = At.AddSeconds(30),
            LastError = "puppet answered HTTP 503",
            CompletedAt = At.AddSeconds(2),
        };

        var bson = DeliveryDocument.FromRecord(record).ToBsonDocument();

        var expected = new BsonDocument
        {
            { "_id", record.Id },
            { "kind", "Encrypted" },
            { "corpId", record.CorpId },
            { "kfId", record.KfId },
            { "body", record.Body },
            { "msgSignature", record.Query!.MsgSignature },
            { "timestamp", record.Query.Timestamp },
            { "nonce", record.Query.Nonce },
            { "signatureKey", record.SignatureKey },
            { "tokenKey", record.TokenKey },
            { "state", "Pending" },
            { "attempts", 2 },
            { "receivedAt", new BsonDateTime(At) },
            { "nextAttemptAt", new BsonDateTime(At.AddSeconds(1)) },
            { "expiresAt", new BsonDateTime(At.AddMinutes(10)) },
            { "leaseOwner", "worker-a" },
            { "leaseUntil", new BsonDateTime(At.AddSeconds(30)) },
            { "lastError", "puppet answered HTTP 503" },
            { "completedAt", new BsonDateTime(At.AddSeconds(2)) },
            { "claims", 0 },
        };
        Assert.Equal(expected, bson);
        Assert.Equal(BsonType.String, bson["_id"].BsonType);
        Assert.Equal(BsonType.Int32, bson["attempts"].BsonType);
        Assert.All(
            new[] { "receivedAt", "nextAttemptAt", "expiresAt", "leaseUntil", "completedAt" },
            name => Assert.Equal(BsonType.DateTime, bson[name].BsonType));
    }

    [Fact]
    public void DecryptedRecord_OmitsSignatureKey_AndWritesTheAbsentQueryAsNulls()
    {
        var record = DeliveryStoreContract.NewRecord(decrypted: true);

        var bson = DeliveryDocument.FromRecord(record).ToBsonDocument();

        Assert.False(bson.Contains("signatureKey"));
        Assert.Equal("Decrypted", bson["kind"].AsString);
        Assert.Equal(BsonNull.Value, bson["msgSignature"]);
        Assert.Equal(BsonNull.Value, bson["timestamp"]);
        Assert.Equal(BsonNull.Value, bson["nonce"]);
        Assert.Equal(BsonNull.Value, bson["leaseOwner"]);
        Assert.Equal(BsonNull.Value, bson["leaseUntil"]);
        Assert.Equal(BsonNull.Value, bson["completedAt"]);
    }

    [Theory]
    [InlineData(false, DeliveryState.Pending)]
    [InlineData(true, DeliveryState.Pending)]
    [InlineData(false, DeliveryState.Dead)]
    public void Record_RoundTripsThroughBson(bool decrypted, DeliveryState state)
    {
        var record = DeliveryStoreContract.NewRecord(state: state, decrypted: decrypted) with { LeaseOwner = "w", LeaseUntil = At };

        var roundTripped = BsonSerializer.Deserialize<DeliveryDocument>(DeliveryDocument.FromRecord(record).ToBsonDocument()).ToRecord();

        Assert.Equal(record, roundTripped);
    }

    [Fact]
    public void Dates_ReadBackAsUtc_AtMillisecondPrecision()
    {
        var record = DeliveryStoreContract.NewRecord() with { ReceivedAt = At.AddTicks(4567), LeaseUntil = At, CompletedAt = At };

        var read = BsonSerializer.Deserialize<DeliveryDocument>(DeliveryDocument.FromRecord(record).ToBsonDocument()).ToRecord();

        Assert.Equal(At, read.ReceivedAt);
        Assert.All(
            new[] { read.ReceivedAt, read.NextAttemptAt, read.ExpiresAt, read.LeaseUntil!.Value, read.CompletedAt!.Value },
            date => Assert.Equal(DateTimeKind.Utc, date.Kind));
    }

    [Fact]
    public void Document_WithMissingOptionalFields_AndUnknownOnes_Deserializes()
    {
        var bson = DeliveryDocument.FromRecord(DeliveryStoreContract.NewRecord(decrypted: true)).ToBsonDocument();
        bson.Remove("leaseOwner");
        bson.Remove("leaseUntil");
        bson.Add("addedByANewerReplica", 1);

        var record = BsonSerializer.Deserialize<DeliveryDocument>(bson).ToRecord();

        Assert.Null(record.LeaseOwner);
        Assert.Null(record.LeaseUntil);
        Assert.Null(record.Query);
        Assert.Null(record.SignatureKey);
    }

    [Fact]
    public void Due_IsPending_DueByNow_AndUnleasedOrLeaseExpiredByTheServersClock()
    {
        Assert.Equal(
            $$"""{ "state" : "Pending", "nextAttemptAt" : { "$lte" : {{AtJson}} }, "$or" : [{ "leaseUntil" : null }, { "$expr" : { "$lte" : ["$leaseUntil", "$$NOW"] } }] }""",
            MongoDeliveryStore.Filters.Due(At).Render(Args).ToJson());
    }

    [Fact]
    public void Claim_TakesAFreshLeaseToken_ALeaseFromTheServersClock_AndCountsTheClaim()
    {
        Assert.Equal(
            """[{ "$set" : { "leaseOwner" : "worker-a/t1", "leaseUntil" : { "$add" : ["$$NOW", 30000] }, "claims" : { "$add" : [{ "$ifNull" : ["$claims", 0] }, 1] } } }]""",
            MongoDeliveryStore.Updates.Claim("worker-a/t1", TimeSpan.FromSeconds(30)).Render(Args).ToJson());
        Assert.StartsWith("worker-a/", LeaseToken.New("worker-a"));
        Assert.NotEqual(LeaseToken.New("worker-a"), LeaseToken.New("worker-a"));
        Assert.Equal("""{ "nextAttemptAt" : 1 }""", MongoDeliveryStore.ClaimOptions.Sort.Render(Args).ToJson());
        Assert.Equal(ReturnDocument.After, MongoDeliveryStore.ClaimOptions.ReturnDocument);
        Assert.False(MongoDeliveryStore.ClaimOptions.IsUpsert);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(9_999)] // under a millisecond: the stored lease would end as it starts
    [InlineData(-10_000)]
    public async Task Claim_WithALeaseShorterThanAMillisecond_IsRejected_BeforeAnyQuery(long leaseTicks)
    {
        // Nothing listens on this port: the guard throws before the driver tries to connect.
        using var store = new MongoDeliveryStore(
            Microsoft.Extensions.Options.Options.Create(new StorageOptions { MongoUri = "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=100" }),
            NullLogger<MongoDeliveryStore>.Instance);

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(
            () => store.ClaimDueAsync("worker-a", 10, At, TimeSpan.FromTicks(leaseTicks), TestContext.Current.CancellationToken));
    }

    [Fact]
    public void LeasedBy_IsTheRecord_StillPending_AndLeasedToTheOwner()
    {
        Assert.Equal(
            """{ "_id" : "d1", "state" : "Pending", "leaseOwner" : "worker-a" }""",
            MongoDeliveryStore.Filters.LeasedBy("d1", "worker-a").Render(Args).ToJson());
    }

    [Fact]
    public void FinishingUpdates_EndTheLease_ResetTheClaims_AndSetWhenTheTtlIndexPurges()
    {
        Assert.Equal(
            $$"""{ "$set" : { "state" : "Delivered", "attempts" : 2, "completedAt" : {{AtJson}}, "lastError" : null, "purgeAt" : {{LaterJson}}, "leaseOwner" : null, "leaseUntil" : null, "claims" : 0 } }""",
            Render(MongoDeliveryStore.Updates.ReleasingLease(MongoDeliveryStore.Updates.Delivered(2, At, At.AddSeconds(30)))));
        Assert.Equal(
            $$"""{ "$set" : { "attempts" : 1, "nextAttemptAt" : {{AtJson}}, "lastError" : "HTTP 503", "leaseOwner" : null, "leaseUntil" : null, "claims" : 0 } }""",
            Render(MongoDeliveryStore.Updates.ReleasingLease(MongoDeliveryStore.Updates.Rescheduled(1, At, "HTTP 503"))));
        Assert.Equal(
            $$"""{ "$set" : { "state" : "Dead", "attempts" : 7, "lastError" : "expired", "completedAt" : {{AtJson}}, "purgeAt" : {{LaterJson}}, "leaseOwner" : null, "leaseUntil" : null, "claims" : 0 } }""",
            Render(MongoDeliveryStore.Updates.ReleasingLease(MongoDeliveryStore.Updates.DeadLettered(7, "expired", At, At.AddSeconds(30)))));
    }

    [Fact]
    public void ThePurgeLoop_OnlyRemovesRecordsFinishedBeforeTheTtlField()
    {
        Assert.Equal(
            $$"""{ "$or" : [{ "state" : "Delivered", "completedAt" : { "$lt" : {{AtJson}} } }, { "state" : "Dead", "completedAt" : { "$lt" : {{LaterJson}} } }], "purgeAt" : { "$exists" : false } }""",
            MongoDeliveryStore.Filters.PurgeableWithoutTtl(At, At.AddSeconds(30)).Render(Args).ToJson());
    }

    [Fact]
    public void Replay_OfADeadLetter_MakesItDueNow_WithAFreshCountAndAgeLimit()
    {
        Assert.Equal("""{ "_id" : "d1", "state" : "Dead" }""", MongoDeliveryStore.Filters.DeadLetter("d1").Render(Args).ToJson());
        Assert.Equal(
            $$"""{ "$set" : { "state" : "Pending", "attempts" : 0, "nextAttemptAt" : {{AtJson}}, "expiresAt" : {{LaterJson}}, "leaseOwner" : null, "leaseUntil" : null, "completedAt" : null, "claims" : 0 }, "$unset" : { "purgeAt" : 1 } }""",
            Render(MongoDeliveryStore.Updates.Replay(At, At.AddSeconds(30))));
    }

    [Fact]
    public void Stats_SplitPendingByLease()
    {
        Assert.Equal(
            $$"""{ "state" : "Pending", "$or" : [{ "leaseUntil" : null }, { "leaseUntil" : { "$lte" : {{AtJson}} } }] }""",
            MongoDeliveryStore.Filters.PendingUnleased(At).Render(Args).ToJson());
        Assert.Equal(
            $$"""{ "state" : "Pending", "leaseUntil" : { "$gt" : {{AtJson}} } }""",
            MongoDeliveryStore.Filters.PendingLeased(At).Render(Args).ToJson());
        Assert.Equal("""{ "receivedAt" : 1 }""", MongoDeliveryStore.Sorts.OldestReceivedFirst.Render(Args).ToJson());
        Assert.Equal("""{ "receivedAt" : 1 }""", MongoDeliveryStore.Projections.ReceivedAtOnly.Render(Args).ToJson());
    }

    [Fact]
    public void Purgeable_IsDeliveredOrDead_CompletedBeforeTheirCutoffs()
    {
        Assert.Equal(
            $$"""{ "$or" : [{ "state" : "Delivered", "completedAt" : { "$lt" : {{AtJson}} } }, { "state" : "Dead", "completedAt" : { "$lt" : {{LaterJson}} } }] }""",
            MongoDeliveryStore.Filters.Purgeable(At, At.AddSeconds(30)).Render(Args).ToJson());
    }

    [Fact]
    public void DeadLetters_AreListedLatestFirst()
    {
        Assert.Equal("""{ "state" : "Dead" }""", MongoDeliveryStore.Filters.InState(DeliveryState.Dead).Render(Args).ToJson());
        Assert.Equal("""{ "completedAt" : -1 }""", MongoDeliveryStore.Sorts.LatestCompletedFirst.Render(Args).ToJson());
    }

    [Fact]
    public void Indexes_AreUniqueKeys_TheClaimCompletionAndOldestPendingOrders_AndTheTtl()
    {
        Assert.Collection(
            MongoDeliveryStore.Indexes,
            token =>
            {
                Assert.Equal("""{ "tokenKey" : 1 }""", token.Keys.Render(Args).ToJson());
                Assert.Equal("tokenKey_1", token.Options.Name);
                Assert.True(token.Options.Unique);
            },
            signature =>
            {
                Assert.Equal("""{ "signatureKey" : 1 }""", signature.Keys.Render(Args).ToJson());
                Assert.Equal("signatureKey_1", signature.Options.Name);
                Assert.True(signature.Options.Unique);
                var options = Assert.IsType<CreateIndexOptions<DeliveryDocument>>(signature.Options);
                Assert.Equal("""{ "signatureKey" : { "$type" : "string" } }""", options.PartialFilterExpression.Render(Args).ToJson());
            },
            due =>
            {
                Assert.Equal("""{ "state" : 1, "nextAttemptAt" : 1 }""", due.Keys.Render(Args).ToJson());
                Assert.Equal("state_1_nextAttemptAt_1", due.Options.Name);
                Assert.NotEqual(true, due.Options.Unique);
            },
            completed =>
            {
                Assert.Equal("""{ "state" : 1, "completedAt" : 1 }""", completed.Keys.Render(Args).ToJson());
                Assert.Equal("state_1_completedAt_1", completed.Options.Name);
                Assert.NotEqual(true, completed.Options.Unique);
            },
            perPuppet =>
            {
                Assert.Equal("""{ "kfId" : 1, "state" : 1 }""", perPuppet.Keys.Render(Args).ToJson());
                Assert.Equal("kfId_1_state_1", perPuppet.Options.Name);
                Assert.NotEqual(true, perPuppet.Options.Unique);
            },
            oldestPending =>
            {
                Assert.Equal("""{ "state" : 1, "receivedAt" : 1 }""", oldestPending.Keys.Render(Args).ToJson());
                Assert.Equal("state_1_receivedAt_1", oldestPending.Options.Name);
            },
            ttl =>
            {
                Assert.Equal("""{ "purgeAt" : 1 }""", ttl.Keys.Render(Args).ToJson());
                Assert.Equal("purgeAt_1", ttl.Options.Name);
                Assert.Equal(TimeSpan.Zero, ttl.Options.ExpireAfter);
            });
    }

    [Fact]
    public void ReleasingAPuppet_TouchesOnlyItsWaitingEvents_AndItsRecentDeadLetters()
    {
        var now = new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc);
        Assert.Equal(
            """{ "kfId" : "wk1", "state" : "Pending", "$or" : [{ "leaseUntil" : null }, { "leaseUntil" : { "$lte" : { "$date" : "2026-01-02T03:04:05Z" } } }], "nextAttemptAt" : { "$gt" : { "$date" : "2026-01-02T03:04:05Z" } } }""",
            MongoDeliveryStore.Filters.WaitingFor("wk1", now).Render(Args).ToJson());
        Assert.Equal(
            """{ "kfId" : "wk1", "state" : "Dead", "receivedAt" : { "$gte" : { "$date" : "2026-01-02T02:54:05Z" } } }""",
            MongoDeliveryStore.Filters.DeadFor("wk1", now.AddMinutes(-10)).Render(Args).ToJson());
        Assert.Equal("""{ "$set" : { "nextAttemptAt" : { "$date" : "2026-01-02T03:04:05Z" } } }""", Render(MongoDeliveryStore.Updates.DueAt(now)));
    }

    [Fact]
    public void QueuedFor_CountsOnePuppetsPendingRecords()
    {
        Assert.Equal("""{ "kfId" : "wk1", "state" : "Pending" }""", MongoDeliveryStore.Filters.QueuedFor("wk1").Render(Args).ToJson());
    }

    [Fact]
    public async Task ADownServer_FailsAStoreCallWithinTheDefaultServerSelectionTimeout_NotTheDriversThirtySeconds()
    {
        // Nothing listens on this port, as when the server is down: the call must fail well inside WeCom's 5 s.
        using var store = new MongoDeliveryStore(
            Microsoft.Extensions.Options.Options.Create(new StorageOptions { MongoUri = "mongodb://127.0.0.1:1/wxkf" }),
            NullLogger<MongoDeliveryStore>.Instance);
        var watch = System.Diagnostics.Stopwatch.StartNew();

        var failure = await Record.ExceptionAsync(() => store.TryEnqueueAsync(DeliveryStoreContract.NewRecord(), TestContext.Current.CancellationToken));

        Assert.True(WxkfManager.Apis.StoreFailure.IsStoreFailure(failure!), failure?.GetType().Name);
        Assert.InRange(watch.Elapsed, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(4));
    }

    private static string Render(UpdateDefinition<DeliveryDocument> update) => update.Render(Args).ToJson();
}
