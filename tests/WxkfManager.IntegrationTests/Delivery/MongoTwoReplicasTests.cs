using Microsoft.Extensions.Options;
using System.Collections.Concurrent;
using Microsoft.Extensions.Logging.Abstractions;
using WxkfManager.Delivery;
using WxkfManager.Settings;
using WxkfManager.Tests.Delivery;
using WxkfManager.Storage.Mongo;

namespace WxkfManager.IntegrationTests.Delivery;

/// <summary>Two manager replicas sharing one MongoDB queue, each with its own store (its own client), as in production.</summary>
public sealed class MongoTwoReplicasTests(MongoFixture fixture) : IClassFixture<MongoFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task EachReplicaDeliversWhatItAccepted_AndWhenOneDies_TheOtherTakesOverItsLeases_EachEventCompletedOnce()
    {
        var uri = fixture.NewDatabaseUri();
        await using var a = await OpenAsync(uri);
        await using var b = await OpenAsync(uri);
        // Real time: leases end by the server's clock. Long enough to check that they hold, short enough to wait out.
        var lease = TimeSpan.FromSeconds(3);
        var acceptedAt = DateTime.UtcNow;
        var ofA = Enumerable.Range(0, 50).Select(_ => Accepted("replica-a", acceptedAt, lease)).ToList();
        var ofB = Enumerable.Range(0, 50).Select(_ => Accepted("replica-b", acceptedAt, lease)).ToList();
        var completions = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        async Task<bool> DeliverAsync(MongoDeliveryStore replica, DeliveryRecord record)
        {
            var done = await replica.MarkDeliveredAsync(record.Id, record.LeaseOwner!, 1, DateTime.UtcNow, Ct);
            if (done)
            {
                completions.AddOrUpdate(record.Id, 1, (_, count) => count + 1);
            }
            return done;
        }

        // Both accept at once (grouped inserts), then deliver from memory; A dies after half of its own.
        var accepted = await Task.WhenAll(ofA.Select(r => a.TryEnqueueAsync(r, Ct)).Concat(ofB.Select(r => b.TryEnqueueAsync(r, Ct))));
        var delivered = await Task.WhenAll(ofB.Select(r => DeliverAsync(b, r)).Concat(ofA.Take(25).Select(r => DeliverAsync(a, r))));
        var whileLeased = await b.ClaimDueAsync("replica-b", 100, DateTime.UtcNow, lease, Ct);
        Assert.True(DateTime.UtcNow < acceptedAt + lease, "the checks above ran within the lease");
        await Task.Delay(acceptedAt + lease + TimeSpan.FromMilliseconds(500) - DateTime.UtcNow, Ct);
        var takenOver = await ClaimAllAsync(b);
        var deliveredByB = await Task.WhenAll(takenOver.Select(r => DeliverAsync(b, r)));
        // A comes back from the dead and finishes what it held: too late, B did.
        var lateByA = await Task.WhenAll(ofA.Skip(25).Select(r => DeliverAsync(a, r)));

        Assert.All(accepted, Assert.True);
        Assert.All(delivered, Assert.True);
        Assert.Empty(whileLeased);
        Assert.Equal(ofA.Skip(25).Select(r => r.Id).Order(), takenOver.Select(r => r.Id).Order());
        Assert.All(takenOver, r => Assert.StartsWith("replica-b/", r.LeaseOwner));
        Assert.All(takenOver, r => Assert.Equal(2, r.Claims));
        Assert.All(deliveredByB, Assert.True);
        Assert.All(lateByA, Assert.False);
        Assert.Equal(ofA.Concat(ofB).Select(r => r.Id).Order(), completions.Keys.Order());
        Assert.All(completions.Values, count => Assert.Equal(1, count));
        var stats = await a.GetStatsAsync(DateTime.UtcNow, Ct);
        Assert.Equal((0, 0, 100), (stats.Pending, stats.Leased, stats.Delivered));
    }

    private static DeliveryRecord Accepted(string replica, DateTime at, TimeSpan lease) =>
        DeliveryStoreContract.NewRecord(at) with
        {
            ReceivedAt = at, ExpiresAt = at.AddMinutes(10), LeaseOwner = LeaseToken.New(replica), LeaseUntil = at + lease, Claims = 1,
        };

    private static async Task<List<DeliveryRecord>> ClaimAllAsync(MongoDeliveryStore replica)
    {
        var claimed = new List<DeliveryRecord>();
        while (await replica.ClaimDueAsync("replica-b", 10, DateTime.UtcNow, TimeSpan.FromSeconds(30), Ct) is { Count: > 0 } batch)
        {
            claimed.AddRange(batch);
        }
        return claimed;
    }

    private static async Task<MongoDeliveryStore> OpenAsync(string uri)
    {
        var store = new MongoDeliveryStore(
            Options.Create(new StorageOptions { MongoUri = uri }),
            NullLogger<MongoDeliveryStore>.Instance);
        await store.InitializeAsync(Ct);
        return store;
    }
}
