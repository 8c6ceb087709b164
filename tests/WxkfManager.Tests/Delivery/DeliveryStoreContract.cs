using WxkfManager.Delivery;

namespace WxkfManager.Tests.Delivery;

/// <summary>
/// What every <see cref="IDeliveryStore"/> promises. Workers claim any due record in a store, so each
/// test gets a fresh, empty store; times are fixed so no test depends on the clock.
/// </summary>
public abstract class DeliveryStoreContract
{
    protected static readonly DateTime T0 = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);

    /// <summary>A new, empty, initialized store.</summary>
    protected abstract Task<IDeliveryStore> CreateStoreAsync();

    /// <summary>Whether leases end by the store's own clock (MongoDB's $$NOW) rather than the time a worker passes.</summary>
    protected virtual bool LeasesUseStoreClock => false;

    /// <summary>The lease token of the claim of <paramref name="id"/> among <paramref name="claimed"/>: what its completion must name.</summary>
    protected static string TokenOf(IReadOnlyList<DeliveryRecord> claimed, string id) => claimed.Single(r => r.Id == id).LeaseOwner!;

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static DeliveryRecord NewRecord(DateTime? due = null, DeliveryState state = DeliveryState.Pending, string? kfId = null, bool decrypted = false)
    {
        var id = Guid.NewGuid().ToString("N");
        var query = decrypted ? null : new SignedQuery("sig" + id, "1700000000", "nonce" + id[..6]);
        var kf = kfId ?? "wk" + id[..10];
        return new DeliveryRecord(
            Id: id,
            Kind: decrypted ? CallbackKind.Decrypted : CallbackKind.Encrypted,
            CorpId: "ww-corp",
            KfId: kf,
            Body: decrypted ? "{\"token\":\"t\",\"openKfId\":\"" + kf + "\"}" : "<xml><Encrypt><![CDATA[" + id + "]]></Encrypt></xml>",
            Query: query,
            SignatureKey: DeliveryRecord.SignatureKeyOf(query),
            TokenKey: DeliveryRecord.TokenKeyOf(kf, "ENC" + id),
            State: state,
            Attempts: 0,
            ReceivedAt: T0,
            NextAttemptAt: due ?? T0,
            ExpiresAt: T0.AddMinutes(10),
            LeaseOwner: null,
            LeaseUntil: null,
            LastError: state == DeliveryState.Dead ? "puppet is deregistered" : null,
            CompletedAt: state == DeliveryState.Dead ? T0 : null);
    }

    [Fact]
    public async Task Enqueue_ThenFind_ReturnsEveryField()
    {
        var store = await CreateStoreAsync();
        var encrypted = NewRecord();
        var decrypted = NewRecord(decrypted: true);

        Assert.True(await store.TryEnqueueAsync(encrypted, Ct));
        Assert.True(await store.TryEnqueueAsync(decrypted, Ct));

        Assert.Equal(encrypted, await store.FindAsync(encrypted.Id, Ct));
        Assert.Equal(decrypted, await store.FindAsync(decrypted.Id, Ct));
    }

    [Fact]
    public async Task CountQueued_CountsOnePuppetsPendingAndLeasedRecords_NotDeliveredOrDead()
    {
        var store = await CreateStoreAsync();
        var kfId = "wk" + Guid.NewGuid().ToString("N")[..12];
        var leased = NewRecord(kfId: kfId);
        var delivered = NewRecord(kfId: kfId);
        await store.TryEnqueueAsync(leased, Ct);
        await store.TryEnqueueAsync(delivered, Ct);
        await store.TryEnqueueAsync(NewRecord(kfId: kfId, decrypted: true, due: T0.AddMinutes(1)), Ct);
        await store.TryEnqueueAsync(NewRecord(kfId: kfId, state: DeliveryState.Dead), Ct);
        await store.TryEnqueueAsync(NewRecord(), Ct);
        var claimed = await store.ClaimDueAsync("worker-a", 10, T0, Lease, Ct);
        Assert.True(await store.MarkDeliveredAsync(delivered.Id, claimed.Single(r => r.Id == delivered.Id).LeaseOwner!, 1, T0, Ct));

        Assert.Equal(2, claimed.Count(r => r.KfId == kfId));
        Assert.Equal(2, await store.CountQueuedAsync(kfId, Ct));
        Assert.Equal(0, await store.CountQueuedAsync("wk-none", Ct));
    }

    [Fact]
    public async Task Enqueue_OfAResendWithTheSameSignature_IsRefused()
    {
        var store = await CreateStoreAsync();
        var first = NewRecord();
        await store.TryEnqueueAsync(first, Ct);

        var resend = NewRecord() with { Query = first.Query, SignatureKey = first.SignatureKey };

        Assert.False(await store.TryEnqueueAsync(resend, Ct));
        Assert.Null(await store.FindAsync(resend.Id, Ct));
    }

    [Fact]
    public async Task Enqueue_OfTheSameSyncTokenForTheSamePuppet_IsRefused()
    {
        var store = await CreateStoreAsync();
        var first = NewRecord();
        await store.TryEnqueueAsync(first, Ct);

        var sameEvent = NewRecord(decrypted: true) with { KfId = first.KfId, TokenKey = first.TokenKey };

        Assert.False(await store.TryEnqueueAsync(sameEvent, Ct));
    }

    [Fact]
    public async Task Enqueue_OfTheSameSyncToken_AfterTheFirstCopyWasGivenUpOn_QueuesItAgain()
    {
        var store = await CreateStoreAsync();
        var dead = NewRecord(state: DeliveryState.Dead);
        await store.TryEnqueueAsync(dead, Ct);
        var repost = NewRecord(decrypted: true) with
        {
            KfId = dead.KfId, TokenKey = dead.TokenKey, ReceivedAt = T0.AddMinutes(20), NextAttemptAt = T0.AddMinutes(20), ExpiresAt = T0.AddMinutes(30),
        };

        Assert.True(await store.TryEnqueueAsync(repost, Ct));

        var revived = await store.FindAsync(dead.Id, Ct);
        Assert.Equal(DeliveryState.Pending, revived!.State);
        Assert.Equal((0, T0.AddMinutes(20), T0.AddMinutes(30)), (revived.Attempts, revived.NextAttemptAt, revived.ExpiresAt));
        Assert.Single(await store.ClaimDueAsync("worker-a", 10, T0.AddMinutes(20), Lease, Ct));
    }

    [Fact]
    public async Task Enqueue_SaysWhetherItStoredTheRecord_RequeuedAnEarlierDeadCopy_OrFoundADuplicate()
    {
        var store = await CreateStoreAsync();
        var first = NewRecord();
        var dead = NewRecord(state: DeliveryState.Dead);
        await store.EnqueueAsync(dead, Ct);

        Assert.Equal(EnqueueOutcome.Queued, await store.EnqueueAsync(first, Ct));
        Assert.Equal(EnqueueOutcome.Duplicate, await store.EnqueueAsync(first with { Id = Guid.NewGuid().ToString("N") }, Ct));
        var repeat = NewRecord() with { KfId = dead.KfId, TokenKey = dead.TokenKey };
        Assert.Equal(EnqueueOutcome.Requeued, await store.EnqueueAsync(repeat, Ct));
        // The repeat itself was not stored: the dead copy is queued in its place, unleased.
        Assert.Null(await store.FindAsync(repeat.Id, Ct));
        Assert.Null((await store.FindAsync(dead.Id, Ct))!.LeaseOwner);
    }

    [Fact]
    public async Task RenewLease_MovesTheEndOfTheCallersLease_AndNobodyElses()
    {
        if (LeasesUseStoreClock)
        {
            Assert.Skip("this store ends leases by its own clock; the two-replica integration test covers it");
        }
        var store = await CreateStoreAsync();
        var record = NewRecord() with { LeaseOwner = "replica-a/token-1", LeaseUntil = T0.AddSeconds(30), Claims = 1 };
        await store.EnqueueAsync(record, Ct);

        Assert.True(await store.RenewLeaseAsync(record.Id, "replica-a/token-1", T0.AddSeconds(90), Ct));
        Assert.False(await store.RenewLeaseAsync(record.Id, "replica-b/token-2", T0.AddSeconds(200), Ct));

        Assert.Empty(await store.ClaimDueAsync("replica-b", 10, T0.AddSeconds(60), Lease, Ct));
        // Handing it back: the lease ends now, and any replica may take it.
        Assert.True(await store.RenewLeaseAsync(record.Id, "replica-a/token-1", T0.AddSeconds(60), Ct));
        Assert.Single(await store.ClaimDueAsync("replica-b", 10, T0.AddSeconds(60), Lease, Ct));
    }

    [Fact]
    public async Task MarkDelivered_DropsTheBody_AndKeepsTheKeysThatRecogniseResends()
    {
        var store = await CreateStoreAsync();
        var record = NewRecord();
        await store.EnqueueAsync(record, Ct);
        var claimed = await store.ClaimDueAsync("worker-a", 10, T0, Lease, Ct);

        Assert.True(await store.MarkDeliveredAsync(record.Id, TokenOf(claimed, record.Id), 1, T0.AddSeconds(1), Ct));

        Assert.Equal("", (await store.FindAsync(record.Id, Ct))!.Body);
        Assert.Equal(EnqueueOutcome.Duplicate, await store.EnqueueAsync(record with { Id = Guid.NewGuid().ToString("N") }, Ct));
    }

    [Fact]
    public async Task Claim_LeavesOutWaitingPuppets_UnlessTheirEventsRanOutOfTime()
    {
        var store = await CreateStoreAsync();
        var waiting = NewRecord(kfId: "wk-waiting");
        var expired = NewRecord(kfId: "wk-waiting") with { ExpiresAt = T0 };
        var other = NewRecord(kfId: "wk-other");
        foreach (var record in new[] { waiting, expired, other })
        {
            await store.TryEnqueueAsync(record, Ct);
        }

        var claimed = await store.ClaimDueAsync("worker-a", 10, T0, Lease, ["wk-waiting"], Ct);

        Assert.Equal(new[] { expired.Id, other.Id }.Order(), claimed.Select(r => r.Id).Order());
    }

    [Fact]
    public async Task ClaimOldestForPuppet_LeasesThatPuppetsOldestDueEvent_Only()
    {
        var store = await CreateStoreAsync();
        var newer = NewRecord(kfId: "wk-probe") with { ReceivedAt = T0.AddSeconds(2) };
        var oldest = NewRecord(kfId: "wk-probe") with { ReceivedAt = T0.AddSeconds(1), NextAttemptAt = T0.AddSeconds(4) };
        var someoneElse = NewRecord(kfId: "wk-else") with { ReceivedAt = T0 };
        foreach (var record in new[] { newer, oldest, someoneElse })
        {
            await store.TryEnqueueAsync(record, Ct);
        }

        var probe = await store.ClaimOldestForPuppetAsync("worker-a", "wk-probe", T0.AddSeconds(5), Lease, Ct);
        var next = await store.ClaimOldestForPuppetAsync("worker-a", "wk-probe", T0.AddSeconds(5), Lease, Ct);
        var none = await store.ClaimOldestForPuppetAsync("worker-a", "wk-probe", T0.AddSeconds(5), Lease, Ct);

        Assert.Equal(oldest.Id, probe!.Id);
        Assert.StartsWith("worker-a/", probe.LeaseOwner);
        Assert.Equal(1, probe.Claims);
        Assert.Equal(newer.Id, next!.Id);
        Assert.Null(none);
    }

    [Fact]
    public async Task Park_PutsOffTheListedPuppetsDueEvents_UntilTheGivenTime_OrTheirAgeLimitIfSooner()
    {
        var store = await CreateStoreAsync();
        var broken = NewRecord(kfId: "wk-broken");
        var brokenSoonTooOld = NewRecord(kfId: "wk-broken") with { ExpiresAt = T0.AddSeconds(20) };
        var brokenTooOld = NewRecord(kfId: "wk-broken") with { ExpiresAt = T0 };
        var brokenLater = NewRecord(T0.AddMinutes(5), kfId: "wk-broken");
        // Held by a worker (by either clock): not this call's to move.
        var brokenHeld = NewRecord(kfId: "wk-broken") with { LeaseOwner = LeaseToken.New("worker-b"), LeaseUntil = DateTime.UtcNow.AddHours(1), Claims = 1 };
        var other = NewRecord(kfId: "wk-other");
        foreach (var record in new[] { broken, brokenSoonTooOld, brokenTooOld, brokenLater, brokenHeld, other })
        {
            await store.TryEnqueueAsync(record, Ct);
        }

        var parked = await store.ParkAsync(["wk-broken"], T0, T0.AddSeconds(60), Ct);

        Assert.Equal(2, parked);
        Assert.Equal(T0.AddSeconds(60), (await store.FindAsync(broken.Id, Ct))!.NextAttemptAt);
        Assert.Equal(T0.AddSeconds(20), (await store.FindAsync(brokenSoonTooOld.Id, Ct))!.NextAttemptAt);
        Assert.Equal(brokenLater, await store.FindAsync(brokenLater.Id, Ct));
        Assert.Equal(brokenHeld, await store.FindAsync(brokenHeld.Id, Ct));
        // Claims read past none of the put-off events; the one too old still goes, to the dead letters.
        Assert.Equal(new[] { brokenTooOld.Id, other.Id }.Order(), (await store.ClaimDueAsync("worker-a", 10, T0, Lease, Ct)).Select(r => r.Id).Order());
        Assert.Equal(0, await store.ParkAsync([], T0, T0.AddSeconds(60), Ct));
    }

    [Fact]
    public async Task ParkedEvents_FallDueAtTheEndOfTheirPutOff_ForAnyReplica()
    {
        var store = await CreateStoreAsync();
        var broken = NewRecord(kfId: "wk-broken");
        await store.TryEnqueueAsync(broken, Ct);
        await store.ParkAsync(["wk-broken"], T0, T0.AddSeconds(60), Ct);

        Assert.Empty(await store.ClaimDueAsync("replica-b", 10, T0.AddSeconds(59), Lease, Ct));
        Assert.Equal(broken.Id, Assert.Single(await store.ClaimDueAsync("replica-b", 10, T0.AddSeconds(60), Lease, Ct)).Id);
    }

    [Fact]
    public async Task ParkedEvents_AreTakenByAProbe_OldestFirst_AndWakeMakesTheRestDue()
    {
        var store = await CreateStoreAsync();
        var oldest = NewRecord(kfId: "wk-broken");
        var newer = NewRecord(kfId: "wk-broken") with { ReceivedAt = T0.AddSeconds(1) };
        var other = NewRecord(T0.AddMinutes(5), kfId: "wk-other");
        foreach (var record in new[] { newer, oldest, other })
        {
            await store.TryEnqueueAsync(record, Ct);
        }
        await store.ParkAsync(["wk-broken"], T0, T0.AddSeconds(60), Ct);
        var now = T0.AddSeconds(2);

        var probe = await store.ClaimOldestForPuppetAsync("worker-a", "wk-broken", now, Lease, Ct);
        var woken = await store.WakeAsync("wk-broken", now, Ct);

        Assert.Equal(oldest.Id, probe!.Id);
        Assert.Equal(1, woken);
        Assert.Equal(newer.Id, Assert.Single(await store.ClaimDueAsync("worker-a", 10, now, Lease, Ct)).Id);
        Assert.Equal(other.NextAttemptAt, (await store.FindAsync(other.Id, Ct))!.NextAttemptAt);
    }

    [Fact]
    public async Task HandBack_EndsTheLeasesItNames_UncountsTheClaim_AndMakesTheEventsDueAtTheGivenTime_NeverPastTheirAgeLimit()
    {
        var store = await CreateStoreAsync();
        // Held by this replica (by either clock), each with its own lease token, as claims and intake lease them.
        static DeliveryRecord Leased(DeliveryRecord record, int claims = 1) =>
            record with { LeaseOwner = LeaseToken.New("worker-a"), LeaseUntil = DateTime.UtcNow.AddHours(1), Claims = claims };
        var held = Leased(NewRecord(kfId: "wk-broken"));
        var heldSoonTooOld = Leased(NewRecord(kfId: "wk-broken") with { ExpiresAt = T0.AddSeconds(20) });
        var claimedBeforeByACrashedWorker = Leased(NewRecord(kfId: "wk-broken"), claims: 3);
        var dueLaterStill = Leased(NewRecord(T0.AddMinutes(5), kfId: "wk-broken"));
        var overdue = Leased(NewRecord(T0.AddSeconds(-5), kfId: "wk-other"));
        var claimedAgainSince = Leased(NewRecord(kfId: "wk-broken"));
        foreach (var record in new[] { held, heldSoonTooOld, claimedBeforeByACrashedWorker, dueLaterStill, overdue, claimedAgainSince })
        {
            await store.TryEnqueueAsync(record, Ct);
        }
        var staleCopy = claimedAgainSince with { LeaseOwner = LeaseToken.New("worker-a") };

        var putOff = await store.HandBackAsync([held, heldSoonTooOld, claimedBeforeByACrashedWorker, dueLaterStill, staleCopy], T0.AddSeconds(60), Ct);
        var atShutdown = await store.HandBackAsync([overdue], putOffUntil: null, Ct);

        Assert.Equal(4, putOff);
        Assert.Equal(1, atShutdown);
        Assert.Equal(held with { LeaseOwner = null, LeaseUntil = null, Claims = 0, NextAttemptAt = T0.AddSeconds(60) }, await store.FindAsync(held.Id, Ct));
        Assert.Equal(T0.AddSeconds(20), (await store.FindAsync(heldSoonTooOld.Id, Ct))!.NextAttemptAt);
        Assert.Equal(2, (await store.FindAsync(claimedBeforeByACrashedWorker.Id, Ct))!.Claims);
        Assert.Equal(T0.AddMinutes(5), (await store.FindAsync(dueLaterStill.Id, Ct))!.NextAttemptAt);
        // At shutdown, handed back as due as it was: it keeps its place in the due order.
        Assert.Equal(overdue with { LeaseOwner = null, LeaseUntil = null, Claims = 0 }, await store.FindAsync(overdue.Id, Ct));
        Assert.Equal(claimedAgainSince, await store.FindAsync(claimedAgainSince.Id, Ct));
        // Out of the claims' way until then, for any replica; a probe still takes them, oldest first.
        Assert.Equal(overdue.Id, Assert.Single(await store.ClaimDueAsync("worker-b", 10, T0.AddSeconds(19), Lease, Ct)).Id);
        Assert.Equal(heldSoonTooOld.Id, Assert.Single(await store.ClaimDueAsync("worker-b", 10, T0.AddSeconds(20), Lease, Ct)).Id);
        Assert.NotNull(await store.ClaimOldestForPuppetAsync("worker-b", "wk-broken", T0.AddSeconds(21), Lease, Ct));
        Assert.Equal(0, await store.HandBackAsync([], T0, Ct));
        Assert.Equal(0, await store.HandBackAsync([], putOffUntil: null, Ct));
    }

    [Fact]
    public async Task WakeAll_MakesEveryWaitingEventDue_ButNotOnesAWorkerHolds()
    {
        var store = await CreateStoreAsync();
        var parked = NewRecord(kfId: "wk-broken");
        var retry = NewRecord(T0.AddMinutes(5), kfId: "wk-refusing");
        var held = NewRecord(T0.AddMinutes(5), kfId: "wk-held") with { LeaseOwner = LeaseToken.New("worker-b"), LeaseUntil = DateTime.UtcNow.AddHours(1), Claims = 1 };
        var dead = NewRecord(state: DeliveryState.Dead, kfId: "wk-gone");
        foreach (var record in new[] { parked, retry, held, dead })
        {
            await store.TryEnqueueAsync(record, Ct);
        }
        await store.ParkAsync(["wk-broken"], T0, T0.AddSeconds(60), Ct);
        var now = T0.AddSeconds(1);

        var woken = await store.WakeAllAsync(now, Ct);

        Assert.Equal(2, woken);
        Assert.Equal(new[] { parked.Id, retry.Id }.Order(), (await store.ClaimDueAsync("worker-a", 10, now, Lease, Ct)).Select(r => r.Id).Order());
        Assert.Equal(held, await store.FindAsync(held.Id, Ct));
        Assert.Equal(dead, await store.FindAsync(dead.Id, Ct));
    }

    [Fact]
    public async Task WakeAll_OfABacklogLongerThanOneWrite_MakesAllOfItDue()
    {
        var store = await CreateStoreAsync();
        // More than SQLite moves in one writer turn (32), over several puppets.
        var waiting = Enumerable.Range(0, 70).Select(n => NewRecord(T0.AddMinutes(5), kfId: $"wk-broken-{n % 3}")).ToList();
        foreach (var record in waiting)
        {
            await store.TryEnqueueAsync(record, Ct);
        }
        var now = T0.AddSeconds(1);

        Assert.Equal(waiting.Count, await store.WakeAllAsync(now, Ct));
        Assert.Equal(0, await store.WakeAllAsync(now, Ct));
        var claimed = await store.ClaimDueAsync("worker-a", 100, now, Lease, Ct);
        Assert.Equal(waiting.Select(r => r.Id).Order(), claimed.Select(r => r.Id).Order());
    }

    [Fact]
    public async Task ReleaseForPuppet_MakesItsWaitingEventsDue_AndQueuesItsRecentDeadLettersAgain()
    {
        var store = await CreateStoreAsync();
        var later = NewRecord(T0.AddMinutes(5), kfId: "wk-back");
        var recentDead = NewRecord(state: DeliveryState.Dead, kfId: "wk-back") with { ReceivedAt = T0.AddMinutes(1) };
        var oldDead = NewRecord(state: DeliveryState.Dead, kfId: "wk-back") with { ReceivedAt = T0.AddMinutes(-30) };
        var otherPuppet = NewRecord(T0.AddMinutes(5), kfId: "wk-other");
        foreach (var record in new[] { later, recentDead, oldDead, otherPuppet })
        {
            await store.TryEnqueueAsync(record, Ct);
        }
        var now = T0.AddMinutes(2);

        var released = await store.ReleaseForPuppetAsync("wk-back", now, now.AddMinutes(-10), now.AddMinutes(10), Ct);

        Assert.Equal(2, released);
        Assert.Equal(new[] { later.Id, recentDead.Id }.Order(), (await store.ClaimDueAsync("w", 10, now, Lease, Ct)).Select(r => r.Id).Order());
        Assert.Equal(DeliveryState.Dead, (await store.FindAsync(oldDead.Id, Ct))!.State);
    }

    [Fact]
    public async Task CountPendingByPuppet_CountsWaitingEventsPerKfId()
    {
        var store = await CreateStoreAsync();
        foreach (var record in new[] { NewRecord(kfId: "wk-a"), NewRecord(kfId: "wk-a"), NewRecord(kfId: "wk-b"), NewRecord(state: DeliveryState.Dead, kfId: "wk-b") })
        {
            await store.TryEnqueueAsync(record, Ct);
        }

        var counts = await store.CountPendingByPuppetAsync(Ct);

        Assert.Equal(2, counts["wk-a"]);
        Assert.Equal(1, counts["wk-b"]);
    }

    [Fact]
    public async Task Enqueue_OfDecryptedEvents_WithoutSignatures_AreNotDuplicatesOfEachOther()
    {
        var store = await CreateStoreAsync();

        Assert.True(await store.TryEnqueueAsync(NewRecord(decrypted: true), Ct));
        Assert.True(await store.TryEnqueueAsync(NewRecord(decrypted: true), Ct));
    }

    [Fact]
    public async Task Claim_LeasesOnlyDueRecords_OldestDueFirst_UpToMax()
    {
        var store = await CreateStoreAsync();
        var later = NewRecord(T0.AddSeconds(3));
        var first = NewRecord(T0.AddSeconds(1));
        var second = NewRecord(T0.AddSeconds(2));
        var notYet = NewRecord(T0.AddMinutes(1));
        foreach (var record in new[] { later, first, second, notYet })
        {
            await store.TryEnqueueAsync(record, Ct);
        }

        var before = DateTime.UtcNow;
        var claimed = await store.ClaimDueAsync("worker-a", 2, T0.AddSeconds(5), Lease, Ct);
        var after = DateTime.UtcNow;

        Assert.Equal([first.Id, second.Id], claimed.Select(r => r.Id));
        // Each claim gets its own lease token, naming the worker.
        Assert.All(claimed, r => Assert.StartsWith("worker-a/", r.LeaseOwner));
        Assert.NotEqual(claimed[0].LeaseOwner, claimed[1].LeaseOwner);
        Assert.All(claimed, r => Assert.Equal(1, r.Claims));
        if (LeasesUseStoreClock)
        {
            Assert.All(claimed, r => Assert.InRange(r.LeaseUntil!.Value, before + Lease - TimeSpan.FromSeconds(5), after + Lease + TimeSpan.FromSeconds(5)));
        }
        else
        {
            Assert.All(claimed, r => Assert.Equal(T0.AddSeconds(5) + Lease, r.LeaseUntil));
        }
        var rest = await store.ClaimDueAsync("worker-a", 10, T0.AddSeconds(5), Lease, Ct);
        Assert.Equal([later.Id], rest.Select(r => r.Id));
    }

    [Fact]
    public async Task Claim_OfALeasedRecord_GetsNothing_UntilTheLeaseExpires_AndTheStaleClaimCannotFinishIt()
    {
        // Real time and a short lease: a store that ends leases by its own clock cannot be told the time.
        var store = await CreateStoreAsync();
        var shortLease = TimeSpan.FromMilliseconds(300);
        var record = NewRecord(DateTime.UtcNow.AddMinutes(-1)) with { ExpiresAt = DateTime.UtcNow.AddMinutes(10) };
        await store.TryEnqueueAsync(record, Ct);
        var first = Assert.Single(await store.ClaimDueAsync("worker-a", 10, DateTime.UtcNow, shortLease, Ct));

        Assert.Empty(await store.ClaimDueAsync("worker-b", 10, DateTime.UtcNow, shortLease, Ct));

        await Task.Delay(shortLease + TimeSpan.FromMilliseconds(200), Ct);
        // The same worker claims it again: only the lease token tells the two claims apart.
        var second = Assert.Single(await store.ClaimDueAsync("worker-a", 10, DateTime.UtcNow, Lease, Ct));
        Assert.Equal(record.Id, second.Id);
        Assert.NotEqual(first.LeaseOwner, second.LeaseOwner);
        Assert.Equal(2, second.Claims);
        Assert.False(await store.MarkDeliveredAsync(record.Id, first.LeaseOwner!, 1, DateTime.UtcNow, Ct));
        Assert.False(await store.MarkDeliveredAsync(record.Id, "worker-a", 1, DateTime.UtcNow, Ct));
        Assert.True(await store.MarkDeliveredAsync(record.Id, second.LeaseOwner!, 1, DateTime.UtcNow, Ct));
    }

    [Fact]
    public async Task Enqueue_OfARecordLeasedByTheReplicaThatAcceptedIt_IsNotClaimable_UntilThatLeaseEnds()
    {
        // Real time and a short lease, as above. The accepting replica holds the record from the start, to deliver it
        // from memory; another one claims it only once that lease has passed (the replica died, say).
        var store = await CreateStoreAsync();
        var shortLease = TimeSpan.FromMilliseconds(300);
        var now = TruncatedToMilliseconds(DateTime.UtcNow);
        var accepted = LeaseToken.New("replica-a");
        var record = NewRecord(now.AddMinutes(-1)) with { ExpiresAt = now.AddMinutes(10), LeaseOwner = accepted, LeaseUntil = now + shortLease, Claims = 1 };

        Assert.True(await store.TryEnqueueAsync(record, Ct));

        Assert.Equal(record, await store.FindAsync(record.Id, Ct));
        Assert.Empty(await store.ClaimDueAsync("replica-b", 10, DateTime.UtcNow, Lease, Ct));
        Assert.Null(await store.ClaimOldestForPuppetAsync("replica-b", record.KfId, DateTime.UtcNow, Lease, Ct));
        await Task.Delay(shortLease + TimeSpan.FromMilliseconds(200), Ct);
        var taken = Assert.Single(await store.ClaimDueAsync("replica-b", 10, DateTime.UtcNow, Lease, Ct));
        Assert.Equal(record.Id, taken.Id);
        Assert.StartsWith("replica-b/", taken.LeaseOwner);
        Assert.Equal(2, taken.Claims);
        Assert.False(await store.MarkDeliveredAsync(record.Id, accepted, 1, DateTime.UtcNow, Ct));
        Assert.True(await store.MarkDeliveredAsync(record.Id, taken.LeaseOwner!, 1, DateTime.UtcNow, Ct));
    }

    [Fact]
    public async Task Enqueue_OfALeasedRecord_IsFinishedByTheAcceptingReplicasLease_WithoutAClaim()
    {
        var store = await CreateStoreAsync();
        var accepted = LeaseToken.New("replica-a");
        var delivered = NewRecord() with { LeaseOwner = accepted, LeaseUntil = T0 + Lease, Claims = 1 };
        var retried = NewRecord() with { LeaseOwner = LeaseToken.New("replica-a"), LeaseUntil = T0 + Lease, Claims = 1 };
        await store.TryEnqueueAsync(delivered, Ct);
        await store.TryEnqueueAsync(retried, Ct);

        Assert.False(await store.MarkDeliveredAsync(delivered.Id, "replica-a", 1, T0, Ct));
        Assert.True(await store.MarkDeliveredAsync(delivered.Id, accepted, 1, T0, Ct));
        Assert.True(await store.RescheduleAsync(retried.Id, retried.LeaseOwner!, 1, T0.AddSeconds(10), "HTTP 503", Ct));

        Assert.Equal(DeliveryState.Delivered, (await store.FindAsync(delivered.Id, Ct))!.State);
        var waiting = await store.FindAsync(retried.Id, Ct);
        Assert.Equal((DeliveryState.Pending, null, 0, T0.AddSeconds(10)), (waiting!.State, waiting.LeaseOwner, waiting.Claims, waiting.NextAttemptAt));
    }

    [Fact]
    public async Task ConcurrentEnqueuesAndCompletions_EachAnswerTheirOwnCaller()
    {
        var store = await CreateStoreAsync();
        var originals = Enumerable.Range(0, 40).Select(i => NewRecord(T0.AddMilliseconds(i))).ToList();
        await Task.WhenAll(originals.Select(r => store.TryEnqueueAsync(r, Ct)));
        var claimed = await store.ClaimDueAsync("worker-a", 40, T0.AddSeconds(1), Lease, Ct);

        // Resends of the even ones beside new events, and completions half of which name a lease never held.
        var resends = originals.Where((_, i) => i % 2 == 0).Select(r => NewRecord() with { Query = r.Query, SignatureKey = r.SignatureKey }).ToList();
        var fresh = Enumerable.Range(0, 20).Select(_ => NewRecord()).ToList();
        var enqueued = resends.Concat(fresh).Select(r => store.TryEnqueueAsync(r, Ct)).ToList();
        var completed = claimed.Select((r, i) => store.MarkDeliveredAsync(r.Id, i % 2 == 0 ? r.LeaseOwner! : r.LeaseOwner + "-stale", 1, T0, Ct)).ToList();

        Assert.Equal(Enumerable.Repeat(false, 20).Concat(Enumerable.Repeat(true, 20)), await Task.WhenAll(enqueued));
        Assert.Equal(Enumerable.Range(0, 40).Select(i => i % 2 == 0), await Task.WhenAll(completed));
        Assert.Equal(new DeliveryQueueStats(Pending: 20, Leased: 20, Dead: 0, Delivered: 20, OldestPendingReceivedAt: T0), await store.GetStatsAsync(T0.AddSeconds(2), Ct));
    }

    private static DateTime TruncatedToMilliseconds(DateTime time) => new(time.Ticks - time.Ticks % TimeSpan.TicksPerMillisecond, DateTimeKind.Utc);

    [Fact]
    public async Task Claims_AreCountedAtClaim_AndAFinishedAttemptResetsThem()
    {
        var store = await CreateStoreAsync();
        var shortLease = TimeSpan.FromMilliseconds(200);
        var record = NewRecord(DateTime.UtcNow.AddMinutes(-1)) with { ExpiresAt = DateTime.UtcNow.AddMinutes(10) };
        await store.TryEnqueueAsync(record, Ct);

        // Two claims whose workers never finish (crashed), then one that reschedules.
        Assert.Equal(1, Assert.Single(await store.ClaimDueAsync("worker-a", 1, DateTime.UtcNow, shortLease, Ct)).Claims);
        await Task.Delay(shortLease + TimeSpan.FromMilliseconds(150), Ct);
        Assert.Equal(2, Assert.Single(await store.ClaimDueAsync("worker-b", 1, DateTime.UtcNow, shortLease, Ct)).Claims);
        await Task.Delay(shortLease + TimeSpan.FromMilliseconds(150), Ct);
        var third = Assert.Single(await store.ClaimDueAsync("worker-c", 1, DateTime.UtcNow, Lease, Ct));
        Assert.Equal(3, third.Claims);
        Assert.True(await store.RescheduleAsync(record.Id, third.LeaseOwner!, 1, DateTime.UtcNow.AddMinutes(-1), "HTTP 503", Ct));

        Assert.Equal(1, Assert.Single(await store.ClaimDueAsync("worker-c", 1, DateTime.UtcNow, Lease, Ct)).Claims);
    }

    [Fact]
    public async Task MarkDelivered_FinishesTheRecord()
    {
        var store = await CreateStoreAsync();
        var record = NewRecord();
        await store.TryEnqueueAsync(record, Ct);
        var claimed = await store.ClaimDueAsync("worker-a", 10, T0, Lease, Ct);

        Assert.True(await store.MarkDeliveredAsync(record.Id, TokenOf(claimed, record.Id), 2, T0.AddSeconds(1), Ct));

        var stored = await store.FindAsync(record.Id, Ct);
        Assert.Equal(DeliveryState.Delivered, stored!.State);
        Assert.Equal(2, stored.Attempts);
        Assert.Equal(T0.AddSeconds(1), stored.CompletedAt);
        Assert.Null(stored.LeaseOwner);
        Assert.Empty(await store.ClaimDueAsync("worker-a", 10, T0.AddHours(1), Lease, Ct));
    }

    [Fact]
    public async Task Reschedule_HoldsTheRecordUntilItsNextAttempt()
    {
        var store = await CreateStoreAsync();
        var record = NewRecord();
        await store.TryEnqueueAsync(record, Ct);
        var claimed = await store.ClaimDueAsync("worker-a", 10, T0, Lease, Ct);

        Assert.True(await store.RescheduleAsync(record.Id, TokenOf(claimed, record.Id), 1, T0.AddSeconds(10), "puppet answered HTTP 503", Ct));

        Assert.Empty(await store.ClaimDueAsync("worker-b", 10, T0.AddSeconds(9), Lease, Ct));
        var again = Assert.Single(await store.ClaimDueAsync("worker-b", 10, T0.AddSeconds(10), Lease, Ct));
        Assert.Equal(1, again.Attempts);
        Assert.Equal("puppet answered HTTP 503", again.LastError);
    }

    [Fact]
    public async Task DeadLetter_IsListedWithItsReason_AndNeverClaimed()
    {
        var store = await CreateStoreAsync();
        var record = NewRecord();
        await store.TryEnqueueAsync(record, Ct);
        var claimed = await store.ClaimDueAsync("worker-a", 10, T0, Lease, Ct);

        Assert.True(await store.DeadLetterAsync(record.Id, TokenOf(claimed, record.Id), 7, "expired after 7 attempts: timed out", T0.AddMinutes(10), Ct));

        var dead = Assert.Single(await store.ListDeadLettersAsync(10, Ct));
        Assert.Equal(record.Id, dead.Id);
        Assert.Equal(DeliveryState.Dead, dead.State);
        Assert.Equal(7, dead.Attempts);
        Assert.Equal("expired after 7 attempts: timed out", dead.LastError);
        Assert.Empty(await store.ClaimDueAsync("worker-a", 10, T0.AddHours(1), Lease, Ct));
    }

    [Fact]
    public async Task Enqueue_AsDead_IsListedStraightAway()
    {
        var store = await CreateStoreAsync();
        var record = NewRecord(state: DeliveryState.Dead);

        await store.TryEnqueueAsync(record, Ct);

        Assert.Equal(record, Assert.Single(await store.ListDeadLettersAsync(10, Ct)));
        Assert.Empty(await store.ClaimDueAsync("worker-a", 10, T0.AddHours(1), Lease, Ct));
    }

    [Fact]
    public async Task Replay_PutsADeadLetterBack_DueNow_WithAFreshAgeLimit()
    {
        var store = await CreateStoreAsync();
        var record = NewRecord(state: DeliveryState.Dead) with { Attempts = 5 };
        await store.TryEnqueueAsync(record, Ct);
        var now = T0.AddHours(2);

        Assert.True(await store.ReplayAsync(record.Id, now, now.AddMinutes(10), Ct));

        var claimed = Assert.Single(await store.ClaimDueAsync("worker-a", 10, now, Lease, Ct));
        Assert.Equal(record.Id, claimed.Id);
        Assert.Equal(DeliveryState.Pending, claimed.State);
        Assert.Equal(0, claimed.Attempts);
        Assert.Equal(now.AddMinutes(10), claimed.ExpiresAt);
        Assert.Empty(await store.ListDeadLettersAsync(10, Ct));
    }

    [Fact]
    public async Task Replay_OfSomethingThatIsNotADeadLetter_ChangesNothing()
    {
        var store = await CreateStoreAsync();
        var pending = NewRecord();
        await store.TryEnqueueAsync(pending, Ct);

        Assert.False(await store.ReplayAsync(pending.Id, T0.AddHours(1), T0.AddHours(2), Ct));
        Assert.False(await store.ReplayAsync("no-such-id", T0.AddHours(1), T0.AddHours(2), Ct));
        Assert.Equal(pending, await store.FindAsync(pending.Id, Ct));
    }

    [Fact]
    public async Task ReplayAll_ReplaysEveryDeadLetter()
    {
        var store = await CreateStoreAsync();
        for (var i = 0; i < 3; i++)
        {
            await store.TryEnqueueAsync(NewRecord(state: DeliveryState.Dead), Ct);
        }
        await store.TryEnqueueAsync(NewRecord(), Ct);

        Assert.Equal(3, await store.ReplayAllAsync(T0.AddHours(1), T0.AddHours(2), Ct));
        Assert.Empty(await store.ListDeadLettersAsync(10, Ct));
        Assert.Equal(4, (await store.ClaimDueAsync("worker-a", 10, T0.AddHours(1), Lease, Ct)).Count);
    }

    [Fact]
    public async Task Stats_CountEachState()
    {
        var store = await CreateStoreAsync();
        var leased = NewRecord();
        var delivered = NewRecord();
        await store.TryEnqueueAsync(leased, Ct);
        await store.TryEnqueueAsync(delivered, Ct);
        await store.TryEnqueueAsync(NewRecord(T0.AddMinutes(5)) with { ReceivedAt = T0.AddSeconds(-30) }, Ct);
        await store.TryEnqueueAsync(NewRecord(state: DeliveryState.Dead), Ct);
        var claimed = await store.ClaimDueAsync("worker-a", 2, T0, Lease, Ct);
        Assert.True(await store.MarkDeliveredAsync(delivered.Id, TokenOf(claimed, delivered.Id), 1, T0, Ct));

        var stats = await store.GetStatsAsync(T0.AddSeconds(1), Ct);

        Assert.Equal(new DeliveryQueueStats(Pending: 1, Leased: 1, Dead: 1, Delivered: 1, OldestPendingReceivedAt: T0.AddSeconds(-30)), stats);
    }

    [Fact]
    public async Task TwoWorkersClaimingAtOnce_NeverGetTheSameRecord()
    {
        var store = await CreateStoreAsync();
        var ids = new HashSet<string>();
        for (var i = 0; i < 60; i++)
        {
            var record = NewRecord(T0.AddMilliseconds(i));
            ids.Add(record.Id);
            await store.TryEnqueueAsync(record, Ct);
        }

        async Task<List<string>> DrainAsync(string owner)
        {
            var mine = new List<string>();
            while (true)
            {
                var batch = await store.ClaimDueAsync(owner, 4, T0.AddSeconds(1), Lease, Ct);
                if (batch.Count == 0)
                {
                    return mine;
                }
                mine.AddRange(batch.Select(r => r.Id));
            }
        }

        var results = await Task.WhenAll(Task.Run(() => DrainAsync("worker-a"), Ct), Task.Run(() => DrainAsync("worker-b"), Ct));

        var all = results[0].Concat(results[1]).ToList();
        Assert.Equal(all.Count, all.Distinct().Count());
        Assert.True(ids.SetEquals(all));
    }
}
