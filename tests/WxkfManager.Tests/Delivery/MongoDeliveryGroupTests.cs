using Microsoft.Extensions.Options;
using Microsoft.Extensions.Logging.Abstractions;
using MongoDB.Bson;
using MongoDB.Bson.Serialization;
using MongoDB.Driver;
using WxkfManager.Apis;
using WxkfManager.Delivery;
using WxkfManager.Settings;
using WxkfManager.Tests.Infrastructure;
using static WxkfManager.Storage.Mongo.MongoDeliveryStore;
using WxkfManager.Storage;
using WxkfManager.Storage.Mongo;

namespace WxkfManager.Tests.Delivery;

/// <summary>
/// The grouped writes of <see cref="MongoDeliveryStore"/> without a server: what one InsertMany inserts, what each
/// UpdateOne of a completion BulkWrite matches and writes, how each caller's answer is told apart, and how a
/// group fails when the server is down.
/// </summary>
public sealed class MongoDeliveryGroupTests
{
    private static readonly RenderArgs<DeliveryDocument> Args =
        new(BsonSerializer.LookupSerializer<DeliveryDocument>(), BsonSerializer.SerializerRegistry);

    private static readonly DateTime At = new(2024, 5, 6, 7, 8, 9, 123, DateTimeKind.Utc);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public void AnInsertedRecord_KeepsTheLeaseOfTheReplicaThatAcceptedIt_UntilThatLeaseEnds()
    {
        using var store = Store();
        var record = DeliveryStoreContract.NewRecord(At) with { LeaseOwner = "replica-a/t1", LeaseUntil = At.AddSeconds(30), Claims = 1 };

        var inserted = store.DocumentFor(record).ToBsonDocument();

        Assert.Equal(("Pending", "replica-a/t1", At.AddSeconds(30), 1), (inserted["state"].AsString, inserted["leaseOwner"].AsString, inserted["leaseUntil"].ToUniversalTime(), inserted["claims"].ToInt32()));
        Assert.Equal(record.Id, inserted["_id"].AsString);
        Assert.Equal(record.TokenKey, inserted["tokenKey"].AsString);
        Assert.False(inserted.Contains("purgeAt"));
        Assert.False(inserted.Contains("finishedLease"));
        var due = Filters.Due(At).Render(Args);
        Assert.False(BsonQuery.Matches(due, inserted, At.AddSeconds(29)), "no other replica claims it while the lease holds");
        Assert.True(BsonQuery.Matches(due, inserted, At.AddSeconds(30)), "and any does once it ends");
        Assert.True(BsonQuery.Matches(Filters.LeasedBy(record.Id, "replica-a/t1").Render(Args), inserted), "the accepting replica finishes it without a claim");
    }

    [Fact]
    public void AnInsertedRecord_DeadOnArrival_CarriesPurgeAt_AsAnyDeadLetter()
    {
        using var store = Store();
        var record = DeliveryStoreContract.NewRecord(state: DeliveryState.Dead) with { CompletedAt = At };

        var inserted = store.DocumentFor(record).ToBsonDocument();

        Assert.Equal("Dead", inserted["state"].AsString);
        Assert.Equal(At + new DeliveryOptions().DeadLetterRetention, inserted["purgeAt"].ToUniversalTime());
        Assert.Equal(BsonNull.Value, inserted["leaseOwner"]);
    }

    [Fact]
    public void CompletionModels_MatchEachRecordOnlyUnderTheLeaseTheyName_AndRecordThatLeaseFinished()
    {
        var completions = new[]
        {
            new LeasedUpdate("d1", "replica-a/t1", Updates.Delivered(1, At, At.AddHours(1))),
            new LeasedUpdate("d2", "replica-a/t2", Updates.Rescheduled(2, At.AddSeconds(10), "HTTP 503")),
            new LeasedUpdate("d3", "replica-b/t3", Updates.DeadLettered(7, "expired", At, At.AddDays(7))),
        };

        var models = CompletionModels(completions);

        Assert.Equal(3, models.Count);
        for (var i = 0; i < models.Count; i++)
        {
            var (id, token) = (completions[i].Id, completions[i].LeaseToken);
            var filter = models[i].Filter.Render(Args);
            var leased = Leased(id, token);
            Assert.True(BsonQuery.Matches(filter, leased));
            Assert.False(BsonQuery.Matches(filter, Leased(id, token + "x")), "a lease taken over");
            Assert.False(BsonQuery.Matches(filter, Leased(id, token).Set("state", "Delivered")), "finished already");
            Assert.False(BsonQuery.Matches(filter, Leased(id + "x", token)));
            var written = BsonQuery.Apply(models[i].Update.Render(Args), leased);
            Assert.Equal(token, written["finishedLease"].AsString);
            Assert.Equal(BsonNull.Value, written["leaseOwner"]);
            Assert.Equal(BsonNull.Value, written["leaseUntil"]);
            Assert.Equal(0, written["claims"].ToInt32());
            Assert.False(models[i].IsUpsert);
        }
        Assert.Equal(("Delivered", 1), (Written(models[0])["state"].AsString, Written(models[0])["attempts"].ToInt32()));
        Assert.Equal(("Pending", 2, At.AddSeconds(10)), (Written(models[1])["state"].AsString, Written(models[1])["attempts"].ToInt32(), Written(models[1])["nextAttemptAt"].ToUniversalTime()));
        Assert.Equal(("Dead", "expired"), (Written(models[2])["state"].AsString, Written(models[2])["lastError"].AsString));

        BsonDocument Written(UpdateOneModel<DeliveryDocument> model) =>
            BsonQuery.Apply(model.Update.Render(Args), Leased(model.Filter.Render(Args)["_id"].AsString, "t"));
    }

    [Fact]
    public void InsertOutcomes_ADuplicateKeyRefusesThatItemOnly_AnotherErrorFailsIt_TheRestWereInserted()
    {
        var outcomes = InsertOutcomes(5, [(1, ServerErrorCategory.DuplicateKey), (3, ServerErrorCategory.Uncategorized), (4, ServerErrorCategory.DuplicateKey)]);

        Assert.Equal([InsertOutcome.Inserted, InsertOutcome.Duplicate, InsertOutcome.Inserted, InsertOutcome.Failed, InsertOutcome.Duplicate], outcomes);
        Assert.All(InsertOutcomes(3, []), o => Assert.Equal(InsertOutcome.Inserted, o));
    }

    [Fact]
    public void Applied_IsDecidedByTheLeaseEachRecordLastFinished()
    {
        var completions = new[]
        {
            new LeasedUpdate("applied", "a/1", Updates.DueAt(At)),
            new LeasedUpdate("takenOver", "a/2", Updates.DueAt(At)),
            new LeasedUpdate("stillLeasedElsewhere", "a/3", Updates.DueAt(At)),
            new LeasedUpdate("gone", "a/4", Updates.DueAt(At)),
            new LeasedUpdate("twice", "a/5", Updates.DueAt(At)),
            new LeasedUpdate("twice", "a/5", Updates.DueAt(At)),
        };
        var finishedLeaseById = new Dictionary<string, string?>
        {
            ["applied"] = "a/1",
            // Another replica claimed it after the lease ran out, and finished it.
            ["takenOver"] = "b/9",
            // Claimed again, not finished yet: no completion ever applied.
            ["stillLeasedElsewhere"] = null,
            ["twice"] = "a/5",
        };

        Assert.Equal([true, false, false, false, true, false], Applied(completions, finishedLeaseById));
    }

    [Fact]
    public async Task ABurstOfEnqueuesAndCompletions_WhileTheServerIsDown_FailsEachCaller_WithinOneServerSelectionTimeout()
    {
        // Nothing listens on this port: each group fails after the store's 2 s server selection, and what queued
        // behind it fails with it, rather than one timeout per group of 256.
        using var store = Store("mongodb://127.0.0.1:1/wxkf");
        var watch = System.Diagnostics.Stopwatch.StartNew();

        var enqueues = Enumerable.Range(0, 600).Select(_ => store.TryEnqueueAsync(DeliveryStoreContract.NewRecord(), Ct)).ToList();
        var completions = Enumerable.Range(0, 300).Select(i => store.MarkDeliveredAsync("d" + i, "a/" + i, 1, At, Ct)).ToList();
        var failures = new List<Exception>();
        foreach (var caller in enqueues.Concat(completions))
        {
            failures.Add((await Record.ExceptionAsync(() => caller))!);
        }

        Assert.All(failures, f => Assert.True(f is not null && StoreFailure.IsStoreFailure(f), f?.GetType().Name));
        Assert.InRange(watch.Elapsed, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(4));
    }

    private static MongoDeliveryStore Store(string uri = "mongodb://127.0.0.1:27017/wxkf") =>
        new(Options.Create(new StorageOptions { MongoUri = uri }), NullLogger<MongoDeliveryStore>.Instance);

    private static BsonDocument Leased(string id, string token) =>
        DeliveryDocument.FromRecord(DeliveryStoreContract.NewRecord(At) with { Id = id, LeaseOwner = token, LeaseUntil = At.AddSeconds(30), Claims = 1 })
            .ToBsonDocument();
}
