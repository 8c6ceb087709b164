using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using WxkfManager.Delivery;
using WxkfManager.Tests.Infrastructure;

namespace WxkfManager.Tests.Delivery;

/// <summary>
/// The queue's hot path over real HTTP: events go from intake to a slot in memory, the store is read back for
/// what memory does not hold, and broken puppets do not hold up healthy ones.
/// </summary>
public sealed class HotPathTests(ManagerApp app) : IClassFixture<ManagerApp>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private async Task SendAsync(TestCorp corp, string kfId, string syncToken)
    {
        var callback = corp.Callback(kfId, syncToken);
        using var response = await app.Client.PostAsync(callback.Path, callback.Content(), Ct);
        Assert.Equal("success", await response.Content.ReadAsStringAsync(Ct));
    }

    [Fact]
    public async Task FortyBlackHoledPuppetsHoldingFourHundredEvents_DoNotDelayAHealthyPuppetsEvent_PastTwoSeconds()
    {
        var corp = new TestCorp();
        var never = new TaskCompletionSource();
        try
        {
            var holes = new List<PuppetStub.Puppet>();
            for (var i = 0; i < 40; i++)
            {
                var hole = await corp.RegisterPuppetAsync(app.Client, app.Puppets);
                // Accepts the connection, never answers (until the test ends).
                hole.Gate = never;
                holes.Add(hole);
            }
            var healthy = await corp.RegisterPuppetAsync(app.Client, app.Puppets);
            await Task.Delay(TimeSpan.FromSeconds(0.6), Ct); // past the hold that follows a registration
            await Parallel.ForEachAsync(holes, new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = Ct }, async (hole, _) =>
            {
                for (var n = 0; n < 10; n++)
                {
                    await SendAsync(corp, hole.KfId, $"hole-{n}");
                }
            });

            var sent = Stopwatch.StartNew();
            await SendAsync(corp, healthy.KfId, "lone-healthy-event");
            var received = await healthy.NextAsync(TimeSpan.FromSeconds(10));

            Assert.Equal("lone-healthy-event", received.Token);
            Assert.True(sent.Elapsed < TimeSpan.FromSeconds(2), $"the healthy event took {sent.Elapsed.TotalSeconds:F2} s beside 40 black holes");
            Assert.All(holes, hole => Assert.True(hole.Attempts <= 1, $"a black hole not yet heard from got {hole.Attempts} attempts at once"));
        }
        finally
        {
            never.TrySetResult();
        }
    }

    [Fact]
    public async Task EventsForAWaitingPuppet_DoNotWakeTheWorkerEach_AndAreDeliveredWhenItsHoldEnds()
    {
        var corp = new TestCorp();
        var signal = app.Services.GetRequiredService<DeliverySignal>();
        var puppet = await corp.RegisterPuppetAsync(app.Client, app.Puppets);
        var before = signal.Notifications;

        // Within the hold that follows a registration, the puppet's events wait in the store.
        var tokens = Enumerable.Range(0, 10).Select(n => $"held-{n}").ToList();
        foreach (var token in tokens)
        {
            await SendAsync(corp, puppet.KfId, token);
        }
        var wakeUps = signal.Notifications - before;

        var seen = new HashSet<string?>();
        while (!tokens.All(seen.Contains))
        {
            seen.Add((await puppet.NextAsync(TimeSpan.FromSeconds(10))).Token);
        }
        Assert.True(wakeUps < tokens.Count, $"{wakeUps} wake-ups of the worker for {tokens.Count} events of a held puppet");
    }

    [Fact]
    public async Task RetryComingDue_WhileFreshEventsFlow_IsDeliveredAlongsideThem()
    {
        var corp = new TestCorp();
        var puppet = await corp.RegisterPuppetAsync(app.Client, app.Puppets);
        await Task.Delay(TimeSpan.FromSeconds(0.6), Ct);
        await SendAsync(corp, puppet.KfId, "warm-up");
        Assert.Equal("warm-up", (await puppet.NextAsync()).Token);

        puppet.FailNext(1);
        await SendAsync(corp, puppet.KfId, "refused-once");
        var fresh = Enumerable.Range(0, 30).Select(n => $"fresh-{n}").ToList();
        foreach (var token in fresh)
        {
            await SendAsync(corp, puppet.KfId, token);
            await Task.Delay(20, Ct);
        }

        var seen = new HashSet<string?>();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!(seen.Contains("refused-once") && fresh.All(seen.Contains)) && DateTime.UtcNow < deadline)
        {
            seen.Add((await puppet.NextAsync(TimeSpan.FromSeconds(10))).Token);
        }
        Assert.Contains("refused-once", seen);
        Assert.All(fresh, token => Assert.Contains(token, seen));
        Assert.True(puppet.Attempts >= 33, "the refused event was attempted again");
    }

    [Fact]
    public async Task ABrokenPuppetsBacklog_IsPutOffOutOfTheClaimsWay_AndFollowsItsFirstAnswer()
    {
        await using var puppet = new RestartingPuppet(app.Client, new TestCorp());
        var breakdown = app.Services.GetRequiredService<IQueueBreakdown>();
        var tracker = app.Services.GetRequiredService<DeliveryTracker>();
        await puppet.RegisterAsync();
        await puppet.HadABlipAsync();
        await puppet.DownAsync();
        await puppet.SendAsync("refused-connection");
        await Eventually.TrueAsync(() => Task.FromResult(tracker.HealthOf(puppet.KfId).IsUnreachable), "the puppet counts as unreachable");
        // The worker puts off what was stored before the puppet stopped answering.
        await Eventually.TrueAsync(async () => (await CountsAsync(breakdown, puppet.KfId)).Due == 0, "the first event is put off");

        var tokens = Enumerable.Range(0, 50).Select(i => $"put-off-{i}").ToList();
        foreach (var token in tokens)
        {
            await puppet.SendAsync(token);
        }

        // Stored put off from the start: no claim reads past them (a probe may hold one).
        var counts = await CountsAsync(breakdown, puppet.KfId);
        Assert.Equal(0, counts.Due);
        Assert.Equal(tokens.Count + 1, counts.Queued);
        var stub = await puppet.UpAsync();
        var received = new HashSet<string>();
        while (received.Count < tokens.Count + 1)
        {
            received.Add((await stub.NextAsync(TimeSpan.FromSeconds(10))).Token!);
        }
        Assert.Contains("refused-connection", received);
        Assert.All(tokens, token => Assert.Contains(token, received));
    }

    private static async Task<QueuedCounts> CountsAsync(IQueueBreakdown breakdown, string kfId) =>
        (await breakdown.ByKfIdAsync(DateTime.UtcNow, Ct)).GetValueOrDefault(kfId, QueuedCounts.None);


    [Fact]
    public async Task EventCommittedButNeverHandedOff_AsWhenTheReplicaDiesBetween_IsDeliveredOnceItsLeaseEnds()
    {
        var corp = new TestCorp();
        var puppet = await corp.RegisterPuppetAsync(app.Client, app.Puppets);
        var store = app.Services.GetRequiredService<IDeliveryStore>();
        var callback = corp.Callback(puppet.KfId, "committed-not-handed-off");
        var now = DateTime.UtcNow;
        // What intake wrote for a replica that died before handing the event to its slots: leased to that replica.
        var record = new DeliveryRecord(
            Id: Guid.CreateVersion7().ToString("N"), Kind: CallbackKind.Encrypted, CorpId: corp.CorpId, KfId: puppet.KfId,
            Body: callback.Body, Query: new SignedQuery(callback.Signature, callback.Timestamp, callback.Nonce),
            SignatureKey: $"{callback.Signature}|{callback.Timestamp}|{callback.Nonce}",
            TokenKey: DeliveryRecord.TokenKeyOf(puppet.KfId, "committed-not-handed-off"), State: DeliveryState.Pending, Attempts: 0,
            ReceivedAt: now, NextAttemptAt: now, ExpiresAt: now.AddMinutes(10),
            LeaseOwner: "dead-replica:1:0/" + Guid.NewGuid().ToString("N"), LeaseUntil: now.AddSeconds(1.5), LastError: null, CompletedAt: null, Claims: 1);

        Assert.Equal(EnqueueOutcome.Queued, await store.EnqueueAsync(record, Ct));

        Assert.True(await puppet.NothingArrivesAsync(TimeSpan.FromSeconds(1)), "delivered while another replica held the lease");
        var received = await puppet.NextAsync(TimeSpan.FromSeconds(5));
        Assert.Equal("committed-not-handed-off", received.Token);
        // Recorded right after the puppet's answer.
        var stored = await store.FindAsync(record.Id, Ct);
        for (var i = 0; i < 40 && stored!.State != DeliveryState.Delivered; i++)
        {
            await Task.Delay(50, Ct);
            stored = await store.FindAsync(record.Id, Ct);
        }
        Assert.Equal(DeliveryState.Delivered, stored!.State);
        Assert.Equal(1, stored.Attempts);
    }
}
