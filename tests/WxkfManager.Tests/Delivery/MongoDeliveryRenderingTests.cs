using Microsoft.Extensions.Options;
using Microsoft.Extensions.Logging.Abstractions;
using MongoDB.Bson;
using MongoDB.Bson.Serialization;
using MongoDB.Driver;
using WxkfManager.Delivery;
using WxkfManager.Settings;
using WxkfManager.Registry;
using WxkfManager.Tests.Infrastructure;
using WxkfManager.Storage.Mongo;

namespace WxkfManager.Tests.Delivery;

/// <summary>
/// What <see cref="MongoDeliveryStore"/> sends to MongoDB and where, checked without a server: documents by their
/// field names, filters by which documents they match and updates by what they leave (<see cref="BsonQuery"/>),
/// not by the query shape the driver happens to render.
/// </summary>
public sealed class MongoDeliveryRenderingTests
{
    private static readonly RenderArgs<DeliveryDocument> Args =
        new(BsonSerializer.LookupSerializer<DeliveryDocument>(), BsonSerializer.SerializerRegistry);

    private static readonly DateTime At = new(2024, 5, 6, 7, 8, 9, 123, DateTimeKind.Utc);

    [Fact]
    public void Collection_IsWxkfDeliveries_InTheRegistrysDatabase()
    {
        var options = Options.Create(new StorageOptions { MongoUri = "mongodb://127.0.0.1:27017/wxkf-prod" });
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
            Options.Create(new StorageOptions { MongoUri = uri }),
            NullLogger<MongoDeliveryStore>.Instance);

        Assert.Equal(database, store.Collection.Database.DatabaseNamespace.DatabaseName);
    }

    [Theory]
    [InlineData(null)]
    [InlineData(" ")]
    public void MissingUri_IsRejected(string? uri)
    {
        Assert.Throws<InvalidOperationException>(() => new MongoDeliveryStore(
            Options.Create(new StorageOptions { MongoUri = uri }),
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
        var due = Filter(MongoDeliveryStore.Filters.Due(At));
        var server = At.AddSeconds(5);

        Assert.True(BsonQuery.Matches(due, Pending(), server));
        Assert.True(BsonQuery.Matches(due, Pending(nextAttemptAt: At.AddSeconds(-1)), server));
        Assert.True(BsonQuery.Matches(due, Without(Pending(), "leaseUntil"), server), "a document older than the lease fields");
        // The lease ends by the server's clock, whatever time the worker passed.
        Assert.True(BsonQuery.Matches(due, Leased("replica-a/t1", until: At.AddSeconds(4)), server));
        Assert.False(BsonQuery.Matches(due, Leased("replica-a/t1", until: At.AddSeconds(6)), server));
        Assert.False(BsonQuery.Matches(due, Leased("replica-a/t1", until: At.AddSeconds(-1)), At.AddSeconds(-2)));
        Assert.False(BsonQuery.Matches(due, Pending(nextAttemptAt: At.AddMilliseconds(1)), server));
        Assert.False(BsonQuery.Matches(due, Pending(state: "Delivered"), server));
        Assert.False(BsonQuery.Matches(due, Pending(state: "Dead"), server));
    }

    [Fact]
    public void DueExcept_LeavesOutWaitingPuppets_UnlessTheirEventsRanOutOfTime()
    {
        var due = Filter(MongoDeliveryStore.Filters.DueExcept(At, ["wk-waiting"]));

        Assert.False(BsonQuery.Matches(due, Pending(kfId: "wk-waiting"), At));
        Assert.True(BsonQuery.Matches(due, Pending(kfId: "wk-waiting", expiresAt: At), At));
        Assert.True(BsonQuery.Matches(due, Pending(kfId: "wk-other"), At));
        Assert.True(BsonQuery.Matches(Filter(MongoDeliveryStore.Filters.ProbeableFor("wk-other")), Pending(kfId: "wk-other"), At));
        Assert.False(BsonQuery.Matches(Filter(MongoDeliveryStore.Filters.ProbeableFor("wk-other")), Pending(kfId: "wk-waiting"), At));
    }

    [Fact]
    public void ProbeableFor_TakesThePuppetsEventsThatNoWorkerHolds_DueOrPutOff()
    {
        var probeable = Filter(MongoDeliveryStore.Filters.ProbeableFor("wk-a"));

        Assert.True(BsonQuery.Matches(probeable, Pending(), At));
        Assert.True(BsonQuery.Matches(probeable, Pending(nextAttemptAt: At.AddMinutes(1)), At));
        Assert.True(BsonQuery.Matches(probeable, Leased("worker-a/t1", until: At), At));
        Assert.False(BsonQuery.Matches(probeable, Leased("worker-a/t1", until: At.AddSeconds(1)), At));
        Assert.False(BsonQuery.Matches(probeable, Pending("Dead"), At));
        Assert.False(BsonQuery.Matches(probeable, Pending(kfId: "wk-b"), At));
    }

    [Fact]
    public void DueToPutOff_TakesTheListedPuppetsDueEvents_ThatNoWorkerHolds_AndThatAreNotTooOld()
    {
        var putOff = Filter(MongoDeliveryStore.Filters.DueToPutOff(At, ["wk-broken"]));

        Assert.True(BsonQuery.Matches(putOff, Pending(kfId: "wk-broken"), At));
        Assert.False(BsonQuery.Matches(putOff, Pending(kfId: "wk-a"), At));
        Assert.False(BsonQuery.Matches(putOff, Pending(kfId: "wk-broken", nextAttemptAt: At.AddMilliseconds(1)), At));
        Assert.False(BsonQuery.Matches(putOff, Pending(kfId: "wk-broken", expiresAt: At), At));
        Assert.False(BsonQuery.Matches(putOff, Pending(kfId: "wk-broken").Set("leaseOwner", "worker-a/t1").Set("leaseUntil", At.AddSeconds(1)), At));
        Assert.False(BsonQuery.Matches(putOff, Pending("Delivered", kfId: "wk-broken"), At));
    }

    [Fact]
    public void Waiting_IsPendingNotHeld_AndDueLater()
    {
        var waiting = Filter(MongoDeliveryStore.Filters.Waiting(At));

        Assert.True(BsonQuery.Matches(waiting, Pending(nextAttemptAt: At.AddMilliseconds(1)), At));
        Assert.False(BsonQuery.Matches(waiting, Pending(), At));
        Assert.False(BsonQuery.Matches(waiting, Pending(nextAttemptAt: At.AddMinutes(1)).Set("leaseOwner", "w/1").Set("leaseUntil", At.AddSeconds(1)), At));
        Assert.False(BsonQuery.Matches(waiting, Pending("Dead", nextAttemptAt: At.AddMinutes(1)), At));
    }

    [Fact]
    public void PutOff_ReadsTheDueIndex_ByName()
    {
        var due = MongoDeliveryStore.Indexes.Single(i => i.Keys.Render(Args) == new BsonDocument { { "state", 1 }, { "nextAttemptAt", 1 } });

        Assert.Equal(due.Options.Name, MongoDeliveryStore.PutOffOptions.Hint.AsString);
    }

    [Fact]
    public void PutOffUntil_MovesTheNextAttempt_ButNeverPastTheAgeLimit()
    {
        var update = MongoDeliveryStore.Updates.PutOffUntil(At.AddSeconds(60)).Render(Args);

        var before = Pending(kfId: "wk-broken");
        var young = BsonQuery.Apply(update, before, At);
        var old = BsonQuery.Apply(update, Pending(kfId: "wk-broken", expiresAt: At.AddSeconds(20)), At);

        Assert.Equal(At.AddSeconds(60), young["nextAttemptAt"].ToUniversalTime());
        Assert.Equal(At.AddSeconds(20), old["nextAttemptAt"].ToUniversalTime());
        // Nothing else changes.
        Assert.Equal(before.DeepClone().AsBsonDocument.Set("nextAttemptAt", young["nextAttemptAt"]), young);
    }

    [Fact]
    public void HandedBack_EndsTheLease_UncountsTheClaim_AndIsDueAtTheGivenTime_NeverEarlierThanBefore_NorPastTheAgeLimit()
    {
        var update = MongoDeliveryStore.Updates.HandedBack(At.AddSeconds(60)).Render(Args);

        var before = Leased("worker-a/t1");
        var held = BsonQuery.Apply(update, before);
        var claimedBefore = BsonQuery.Apply(update, Leased("worker-a/t1").Set("claims", 3));
        var fromBeforeTheField = BsonQuery.Apply(update, Without(Leased("worker-a/t1"), "claims"));
        var soonTooOld = BsonQuery.Apply(update, Leased("worker-a/t1").Set("expiresAt", At.AddSeconds(20)));
        var dueLaterStill = BsonQuery.Apply(update, Leased("worker-a/t1").Set("nextAttemptAt", At.AddMinutes(5)));

        var released = before.DeepClone().AsBsonDocument.Set("leaseOwner", BsonNull.Value).Set("leaseUntil", BsonNull.Value).Set("claims", 0);
        Assert.Equal(released.DeepClone().AsBsonDocument.Set("nextAttemptAt", At.AddSeconds(60)), held);
        Assert.Equal(2, claimedBefore["claims"].ToInt32());
        Assert.Equal(0, fromBeforeTheField["claims"].ToInt32());
        Assert.Equal(At.AddSeconds(20), soonTooOld["nextAttemptAt"].ToUniversalTime());
        Assert.Equal(At.AddMinutes(5), dueLaterStill["nextAttemptAt"].ToUniversalTime());
        // At shutdown: due as it was.
        Assert.Equal(released, BsonQuery.Apply(MongoDeliveryStore.Updates.HandedBack(putOffUntil: null).Render(Args), before));
        // Only the lease's own token: a lease that ran out and was claimed again is another's.
        Assert.True(BsonQuery.Matches(MongoDeliveryStore.Filters.LeasedBy("d1", "worker-a/t1").Render(Args), Leased("worker-a/t1")));
        Assert.False(BsonQuery.Matches(MongoDeliveryStore.Filters.LeasedBy("d1", "worker-a/t1").Render(Args), Leased("worker-b/t2")));
    }

    [Fact]
    public void Claim_TakesAFreshLeaseToken_ALeaseFromTheServersClock_AndCountsTheClaim()
    {
        var server = At.AddMinutes(1);
        var update = MongoDeliveryStore.Updates.Claim("worker-a/t1", TimeSpan.FromSeconds(30)).Render(Args);

        var first = BsonQuery.Apply(update, Without(Pending(), "claims"), server);
        var again = BsonQuery.Apply(update, first, server);

        Assert.Equal("worker-a/t1", first["leaseOwner"].AsString);
        Assert.Equal(server.AddSeconds(30), first["leaseUntil"].ToUniversalTime());
        Assert.Equal(1, first["claims"].ToInt32());
        Assert.Equal(2, again["claims"].ToInt32());
        Assert.Equal("Pending", first["state"].AsString);
        Assert.StartsWith("worker-a/", LeaseToken.New("worker-a"));
        Assert.NotEqual(LeaseToken.New("worker-a"), LeaseToken.New("worker-a"));
        // Earliest due first, and the claimed document as the claim left it (its lease token), never an insert.
        Assert.Equal(new BsonDocument("nextAttemptAt", 1), MongoDeliveryStore.ClaimOptions.Sort.Render(Args));
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
            Options.Create(new StorageOptions { MongoUri = "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=100" }),
            NullLogger<MongoDeliveryStore>.Instance);

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(
            () => store.ClaimDueAsync("worker-a", 10, At, TimeSpan.FromTicks(leaseTicks), TestContext.Current.CancellationToken));
    }

    [Fact]
    public void LeasedBy_IsTheRecord_StillPending_AndLeasedToTheOwner()
    {
        var leasedBy = Filter(MongoDeliveryStore.Filters.LeasedBy("d1", "worker-a/t1"));

        Assert.True(BsonQuery.Matches(leasedBy, Leased("worker-a/t1")));
        Assert.False(BsonQuery.Matches(leasedBy, Leased("worker-a/t2")), "a later claim, even by the same worker");
        Assert.False(BsonQuery.Matches(leasedBy, Leased("worker-a/t1").Set("_id", "d2")));
        Assert.False(BsonQuery.Matches(leasedBy, Leased("worker-a/t1").Set("state", "Dead")));
        Assert.False(BsonQuery.Matches(leasedBy, Pending()));
    }

    [Fact]
    public void FinishingUpdates_EndTheLease_ResetTheClaims_RecordTheLeaseFinished_AndSetWhenTheTtlIndexPurges()
    {
        var leased = Leased("worker-a/t1").Set("claims", 2);

        var delivered = Finish(MongoDeliveryStore.Updates.Delivered(2, At, At.AddSeconds(30)), leased);
        var rescheduled = Finish(MongoDeliveryStore.Updates.Rescheduled(1, At.AddSeconds(10), "HTTP 503"), leased);
        var dead = Finish(MongoDeliveryStore.Updates.DeadLettered(7, "expired", At, At.AddSeconds(30)), leased);

        Assert.All(new[] { delivered, rescheduled, dead }, finished =>
        {
            Assert.Equal(BsonNull.Value, finished["leaseOwner"]);
            Assert.Equal(BsonNull.Value, finished["leaseUntil"]);
            Assert.Equal(0, finished["claims"].ToInt32());
            Assert.Equal("worker-a/t1", finished["finishedLease"].AsString);
        });
        Assert.Equal(("Delivered", 2, At, BsonNull.Value, At.AddSeconds(30)),
            (delivered["state"].AsString, delivered["attempts"].ToInt32(), delivered["completedAt"].ToUniversalTime(), delivered["lastError"], delivered["purgeAt"].ToUniversalTime()));
        Assert.Equal(("Pending", 1, At.AddSeconds(10), "HTTP 503"),
            (rescheduled["state"].AsString, rescheduled["attempts"].ToInt32(), rescheduled["nextAttemptAt"].ToUniversalTime(), rescheduled["lastError"].AsString));
        Assert.False(rescheduled.Contains("purgeAt"));
        Assert.Equal(("Dead", 7, "expired", At, At.AddSeconds(30)),
            (dead["state"].AsString, dead["attempts"].ToInt32(), dead["lastError"].AsString, dead["completedAt"].ToUniversalTime(), dead["purgeAt"].ToUniversalTime()));
    }

    [Fact]
    public void Purge_RemovesRecordsFinishedBeforeTheirCutoffs_AndTheLoopOnlyThoseWithoutTheTtlField()
    {
        var purgeable = Filter(MongoDeliveryStore.Filters.Purgeable(At, At.AddSeconds(30)));
        var withoutTtl = Filter(MongoDeliveryStore.Filters.PurgeableWithoutTtl(At, At.AddSeconds(30)));
        var oldDelivered = Finished("Delivered", At.AddSeconds(-1));
        var newDelivered = Finished("Delivered", At);
        var oldDead = Finished("Dead", At.AddSeconds(29));
        var newDead = Finished("Dead", At.AddSeconds(30));

        Assert.Equal([true, false, true, false], new[] { oldDelivered, newDelivered, oldDead, newDead }.Select(d => BsonQuery.Matches(purgeable, d)));
        Assert.False(BsonQuery.Matches(purgeable, Pending().Set("completedAt", At.AddDays(-1))));
        Assert.True(BsonQuery.Matches(withoutTtl, oldDelivered));
        Assert.False(BsonQuery.Matches(withoutTtl, oldDelivered.Set("purgeAt", At)), "the TTL index removes it");
    }

    [Fact]
    public void Replay_OfADeadLetter_MakesItDueNow_WithAFreshCountAndAgeLimit()
    {
        var deadLetter = Filter(MongoDeliveryStore.Filters.DeadLetter("d1"));
        var dead = Finished("Dead", At).Set("attempts", 7).Set("lastError", "expired").Set("claims", 3);

        var replayed = BsonQuery.Apply(MongoDeliveryStore.Updates.Replay(At.AddHours(1), At.AddHours(2)).Render(Args), dead);

        Assert.True(BsonQuery.Matches(deadLetter, dead));
        Assert.False(BsonQuery.Matches(deadLetter, Pending()));
        Assert.False(BsonQuery.Matches(deadLetter, dead.DeepClone().AsBsonDocument.Set("_id", "d2")));
        Assert.Equal(("Pending", 0, At.AddHours(1), At.AddHours(2), 0),
            (replayed["state"].AsString, replayed["attempts"].ToInt32(), replayed["nextAttemptAt"].ToUniversalTime(), replayed["expiresAt"].ToUniversalTime(), replayed["claims"].ToInt32()));
        Assert.Equal(BsonNull.Value, replayed["completedAt"]);
        Assert.Equal(BsonNull.Value, replayed["leaseOwner"]);
        Assert.False(replayed.Contains("purgeAt"), "no longer purged by the TTL index");
        Assert.Equal("expired", replayed["lastError"].AsString);
    }

    [Fact]
    public void Revive_QueuesTheDeadCopyOfAResentEvent_AsTheNewCopySays()
    {
        var repost = DeliveryStoreContract.NewRecord() with { ReceivedAt = At, NextAttemptAt = At, ExpiresAt = At.AddMinutes(10) };
        var copyOf = Filter(MongoDeliveryStore.Filters.DeadCopyOf(repost));
        var dead = Finished("Dead", At.AddHours(-1));

        Assert.True(BsonQuery.Matches(copyOf, dead.DeepClone().AsBsonDocument.Set("tokenKey", repost.TokenKey)));
        Assert.True(BsonQuery.Matches(copyOf, dead.DeepClone().AsBsonDocument.Set("signatureKey", repost.SignatureKey)));
        Assert.False(BsonQuery.Matches(copyOf, dead), "another event");
        Assert.False(BsonQuery.Matches(copyOf, Pending().Set("tokenKey", repost.TokenKey)), "a copy still queued");
        var revived = BsonQuery.Apply(MongoDeliveryStore.Updates.Revive(repost).Render(Args), dead);
        Assert.Equal(("Pending", At, At, At.AddMinutes(10)),
            (revived["state"].AsString, revived["receivedAt"].ToUniversalTime(), revived["nextAttemptAt"].ToUniversalTime(), revived["expiresAt"].ToUniversalTime()));
    }

    [Fact]
    public void Stats_SplitPendingByLease_AndFindTheOldestPendingByReceivedAt()
    {
        var unleased = Filter(MongoDeliveryStore.Filters.PendingUnleased(At));
        var leased = Filter(MongoDeliveryStore.Filters.PendingLeased(At));
        var documents = new[] { Pending(), Leased("w/1", until: At), Leased("w/2", until: At.AddSeconds(1)), Finished("Dead", At) };

        Assert.Equal([true, true, false, false], documents.Select(d => BsonQuery.Matches(unleased, d)));
        Assert.Equal([false, false, true, false], documents.Select(d => BsonQuery.Matches(leased, d)));
        Assert.Equal(new BsonDocument("receivedAt", 1), MongoDeliveryStore.Sorts.OldestReceivedFirst.Render(Args));
    }

    [Fact]
    public void DeadLetters_AreListedLatestFirst()
    {
        Assert.True(BsonQuery.Matches(Filter(MongoDeliveryStore.Filters.InState(DeliveryState.Dead)), Finished("Dead", At)));
        Assert.False(BsonQuery.Matches(Filter(MongoDeliveryStore.Filters.InState(DeliveryState.Dead)), Finished("Delivered", At)));
        Assert.Equal(new BsonDocument("completedAt", -1), MongoDeliveryStore.Sorts.LatestCompletedFirst.Render(Args));
    }

    [Fact]
    public void Indexes_AreUniqueKeys_TheClaimCompletionAndOldestPendingOrders_AndTheTtl()
    {
        var indexes = MongoDeliveryStore.Indexes.ToDictionary(i => i.Options.Name, i => (Keys: i.Keys.Render(Args), i.Options));

        Assert.Equal(
            ["kfId_1_state_1", "purgeAt_1", "signatureKey_1", "state_1_completedAt_1", "state_1_nextAttemptAt_1", "state_1_receivedAt_1", "tokenKey_1"],
            indexes.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(new BsonDocument("tokenKey", 1), indexes["tokenKey_1"].Keys);
        Assert.True(indexes["tokenKey_1"].Options.Unique);
        Assert.Equal(new BsonDocument("signatureKey", 1), indexes["signatureKey_1"].Keys);
        Assert.True(indexes["signatureKey_1"].Options.Unique);
        // Only documents with a signature take part in its uniqueness: decrypted callbacks have none.
        var partial = Filter(Assert.IsType<CreateIndexOptions<DeliveryDocument>>(indexes["signatureKey_1"].Options).PartialFilterExpression);
        Assert.True(BsonQuery.Matches(partial, Pending()));
        Assert.False(BsonQuery.Matches(partial, Without(Pending(), "signatureKey")));
        Assert.Equal(new BsonDocument { { "state", 1 }, { "nextAttemptAt", 1 } }, indexes["state_1_nextAttemptAt_1"].Keys);
        Assert.Equal(new BsonDocument { { "state", 1 }, { "completedAt", 1 } }, indexes["state_1_completedAt_1"].Keys);
        Assert.Equal(new BsonDocument { { "kfId", 1 }, { "state", 1 } }, indexes["kfId_1_state_1"].Keys);
        Assert.Equal(new BsonDocument { { "state", 1 }, { "receivedAt", 1 } }, indexes["state_1_receivedAt_1"].Keys);
        Assert.All(indexes.Where(i => i.Key is not ("tokenKey_1" or "signatureKey_1")), i => Assert.NotEqual(true, i.Value.Options.Unique));
        Assert.Equal(new BsonDocument("purgeAt", 1), indexes["purgeAt_1"].Keys);
        Assert.Equal(TimeSpan.Zero, indexes["purgeAt_1"].Options.ExpireAfter);
    }

    [Fact]
    public void ReleasingAPuppet_TouchesOnlyItsWaitingEvents_AndItsRecentDeadLetters()
    {
        var waiting = Filter(MongoDeliveryStore.Filters.WaitingFor("wk1", At));
        var recentDead = Filter(MongoDeliveryStore.Filters.DeadFor("wk1", At.AddMinutes(-10)));

        Assert.True(BsonQuery.Matches(waiting, Pending(kfId: "wk1", nextAttemptAt: At.AddMinutes(1))));
        Assert.False(BsonQuery.Matches(waiting, Pending(kfId: "wk1")), "already due");
        Assert.False(BsonQuery.Matches(waiting, Leased("w/1", until: At.AddMinutes(1)).Set("kfId", "wk1").Set("nextAttemptAt", At.AddMinutes(1))), "a worker holds it");
        Assert.False(BsonQuery.Matches(waiting, Pending(kfId: "wk2", nextAttemptAt: At.AddMinutes(1))));
        Assert.True(BsonQuery.Matches(recentDead, Finished("Dead", At).Set("kfId", "wk1").Set("receivedAt", At.AddMinutes(-10))));
        Assert.False(BsonQuery.Matches(recentDead, Finished("Dead", At).Set("kfId", "wk1").Set("receivedAt", At.AddMinutes(-11))));
        Assert.False(BsonQuery.Matches(recentDead, Finished("Delivered", At).Set("kfId", "wk1")));
        Assert.Equal(At, BsonQuery.Apply(MongoDeliveryStore.Updates.DueAt(At).Render(Args), Pending(nextAttemptAt: At.AddMinutes(1)))["nextAttemptAt"].ToUniversalTime());
    }

    [Fact]
    public void QueuedFor_CountsOnePuppetsPendingRecords_LeasedOrNot()
    {
        var queued = Filter(MongoDeliveryStore.Filters.QueuedFor("wk1"));

        Assert.True(BsonQuery.Matches(queued, Pending(kfId: "wk1")));
        Assert.True(BsonQuery.Matches(queued, Leased("w/1").Set("kfId", "wk1")));
        Assert.False(BsonQuery.Matches(queued, Finished("Delivered", At).Set("kfId", "wk1")));
        Assert.False(BsonQuery.Matches(queued, Pending(kfId: "wk2")));
    }

    [Fact]
    public async Task ADownServer_FailsAStoreCallWithinTheDefaultServerSelectionTimeout_NotTheDriversThirtySeconds()
    {
        // Nothing listens on this port, as when the server is down: the call must fail well inside WeCom's 5 s.
        using var store = new MongoDeliveryStore(
            Options.Create(new StorageOptions { MongoUri = "mongodb://127.0.0.1:1/wxkf" }),
            NullLogger<MongoDeliveryStore>.Instance);
        var watch = System.Diagnostics.Stopwatch.StartNew();

        var failure = await Record.ExceptionAsync(() => store.TryEnqueueAsync(DeliveryStoreContract.NewRecord(), TestContext.Current.CancellationToken));

        Assert.True(WxkfManager.Storage.StoreFailure.IsStoreFailure(failure!), failure?.GetType().Name);
        Assert.InRange(watch.Elapsed, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(4));
    }

    private static BsonDocument Filter(FilterDefinition<DeliveryDocument> filter) => filter.Render(Args);

    private static BsonDocument Finish(UpdateDefinition<DeliveryDocument> update, BsonDocument leased) =>
        BsonQuery.Apply(MongoDeliveryStore.Updates.ReleasingLease(update, leased["leaseOwner"].AsString).Render(Args), leased);

    /// <summary>A pending document as the store writes it (id d1), due at <c>At</c> unless told otherwise.</summary>
    private static BsonDocument Pending(string state = "Pending", string kfId = "wk-a", DateTime? nextAttemptAt = null, DateTime? expiresAt = null) =>
        DeliveryDocument.FromRecord(DeliveryStoreContract.NewRecord(nextAttemptAt ?? At, kfId: kfId) with
        {
            Id = "d1", ReceivedAt = At.AddMinutes(-1), ExpiresAt = expiresAt ?? At.AddMinutes(10),
        }).ToBsonDocument().Set("state", state);

    private static BsonDocument Leased(string leaseToken, DateTime? until = null) =>
        Pending().Set("leaseOwner", leaseToken).Set("leaseUntil", until ?? At.AddSeconds(30)).Set("claims", 1);

    private static BsonDocument Without(BsonDocument document, string field)
    {
        document.Remove(field);
        return document;
    }

    private static BsonDocument Finished(string state, DateTime completedAt) => Pending(state).Set("completedAt", completedAt);
}
