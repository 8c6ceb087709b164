using Microsoft.Extensions.Logging.Abstractions;
using WxkfManager.Registry;

namespace WxkfManager.Tests.Registry;

/// <summary>
/// What every <see cref="IPuppetRegistry"/> promises. Each store's test class derives from this;
/// every test uses its own kfId and corpId, so order and sharing never matter.
/// </summary>
public abstract class PuppetRegistryContract
{
    /// <summary>A registry ready for use (initialized). Called once per test.</summary>
    protected abstract Task<IPuppetRegistry> CreateRegistryAsync();

    [Fact]
    public async Task ReadingTheSameWindowAgain_ReturnsNothing_UntilARowInItChanges()
    {
        var registry = await CreateRegistryAsync();
        var first = Registrations.New();
        await registry.UpsertAsync(first, Ct);
        var since = (await registry.ReadChangesAsync(null, Ct)).Marker!.Value.AddSeconds(-5);
        Assert.Contains((await registry.ReadChangesAsync(since, Ct)).Loaded, p => p.KfId == first.KfId);

        var again = await registry.ReadChangesAsync(since, Ct);

        Assert.Empty(again.Loaded);
        Assert.False(again.Complete);
        await Task.Delay(5, Ct);
        await registry.MarkOfflineAsync(first.KfId, first.CorpId, Registrations.TruncatedNow(), Ct);
        var changed = await registry.ReadChangesAsync(since, Ct);
        Assert.Contains(changed.Loaded, p => p.KfId == first.KfId && !p.Online);
        var second = Registrations.New();
        await registry.UpsertAsync(second, Ct);
        Assert.Contains((await registry.ReadChangesAsync(since, Ct)).Loaded, p => p.KfId == second.KfId);
        // Another replica (a second instance on the same store) reads its own windows.
        var another = await (await CreateRegistryAsync()).ReadChangesAsync(since, Ct);
        Assert.Equal(new[] { first.KfId, second.KfId }.Order(), another.Loaded.Select(p => p.KfId).Where(k => k == first.KfId || k == second.KfId).Order());
    }

    [Fact]
    public async Task Upsert_ThenFind_ReturnsEveryField()
    {
        var registry = await CreateRegistryAsync();
        var registration = Registrations.New();

        var stored = await registry.UpsertAsync(registration, Ct);
        var found = await registry.FindAsync(registration.KfId, Ct);

        Assert.Equal(registration, stored);
        Assert.Equal(registration, found);
    }

    [Fact]
    public async Task Upsert_OfAnOfflineRegistration_StoresItOnline()
    {
        var registry = await CreateRegistryAsync();
        var registration = Registrations.New() with { Online = false };

        var stored = await registry.UpsertAsync(registration, Ct);

        Assert.True(stored.Online);
        Assert.True((await registry.FindAsync(registration.KfId, Ct))!.Online);
    }

    [Fact]
    public async Task Upsert_SameKfIdTwice_ReplacesTheRegistration()
    {
        var registry = await CreateRegistryAsync();
        var first = Registrations.New();
        await registry.UpsertAsync(first, Ct);
        var second = Registrations.New(kfId: first.KfId) with { KfName = "renamed", Endpoint = "https://bot.example:8443/base" };

        await registry.UpsertAsync(second, Ct);

        Assert.Equal(second, await registry.FindAsync(first.KfId, Ct));
        Assert.Single(await registry.ListAsync(Ct), p => p.KfId == first.KfId);
    }

    [Fact]
    public async Task MarkOffline_KeepsTheRecord_AndNotesTheTime()
    {
        var registry = await CreateRegistryAsync();
        var registration = Registrations.New();
        await registry.UpsertAsync(registration, Ct);
        var at = Registrations.TruncatedNow();

        var offline = await registry.MarkOfflineAsync(registration.KfId, registration.CorpId, at, Ct);

        var expected = registration with { Online = false, LastOnlineDate = at };
        Assert.Equal(expected, offline);
        Assert.Equal(expected, await registry.FindAsync(registration.KfId, Ct));
    }

    [Fact]
    public async Task Register_AfterDeregister_IsOnlineAgain_AndKeepsTheLastOnlineDate()
    {
        var registry = await CreateRegistryAsync();
        var registration = Registrations.New();
        await registry.UpsertAsync(registration, Ct);
        var at = Registrations.TruncatedNow();
        await registry.MarkOfflineAsync(registration.KfId, registration.CorpId, at, Ct);

        var again = await registry.UpsertAsync(registration, Ct);

        Assert.True(again.Online);
        Assert.Equal(at, again.LastOnlineDate);
    }

    [Fact]
    public async Task Upsert_KeepsTheInstances_InOrder()
    {
        var registry = await CreateRegistryAsync();
        var at = Registrations.TruncatedNow();
        var registration = Registrations.New() with
        {
            Instances = [new PuppetInstance("127.0.0.1", "http://a:1", at.AddSeconds(-5)), new PuppetInstance("127.0.0.2", "http://b:2", at)],
        };

        await registry.UpsertAsync(registration, Ct);

        var found = await registry.FindAsync(registration.KfId, Ct);
        Assert.Equal(registration.Instances, found!.Instances);
        Assert.Equal(new PuppetInstance("127.0.0.2", "http://b:2", at), found.Newest);
    }

    [Fact]
    public async Task MarkOfflineIfLatest_TakesOffline_WhenNothingRegisteredSince()
    {
        var registry = await CreateRegistryAsync();
        var seen = await registry.UpsertAsync(Registrations.New(), Ct);
        var at = Registrations.TruncatedNow();

        var offline = await registry.MarkOfflineIfLatestAsync(seen, at, Ct);

        Assert.NotNull(offline);
        Assert.False(offline.Online);
        Assert.Equal(at, offline.LastOnlineDate);
    }

    [Fact]
    public async Task MarkOfflineIfLatest_LeavesANewerRegistrationOnline()
    {
        var registry = await CreateRegistryAsync();
        var seen = await registry.UpsertAsync(Registrations.New(), Ct);
        var newer = await registry.UpsertAsync(seen with { Endpoint = "http://127.0.0.2:9", RegisteredAt = seen.RegisteredAt!.Value.AddSeconds(1) }, Ct);

        Assert.Null(await registry.MarkOfflineIfLatestAsync(seen, Registrations.TruncatedNow(), Ct));
        Assert.Equal(newer, await registry.FindAsync(seen.KfId, Ct));
    }

    [Fact]
    public async Task MarkOffline_OfUnknownKfId_ReturnsNull()
    {
        var registry = await CreateRegistryAsync();

        Assert.Null(await registry.MarkOfflineAsync("wk-unknown-" + Guid.NewGuid(), "ww-any", DateTime.UtcNow, Ct));
    }

    [Fact]
    public async Task MarkOffline_WithAnotherCorpId_ChangesNothing()
    {
        var registry = await CreateRegistryAsync();
        var registration = Registrations.New();
        await registry.UpsertAsync(registration, Ct);

        var result = await registry.MarkOfflineAsync(registration.KfId, "ww-someone-else", DateTime.UtcNow, Ct);

        Assert.Null(result);
        Assert.Equal(registration, await registry.FindAsync(registration.KfId, Ct));
    }

    [Fact]
    public async Task Find_OfUnknownKfId_ReturnsNull()
    {
        var registry = await CreateRegistryAsync();

        Assert.Null(await registry.FindAsync("wk-unknown-" + Guid.NewGuid(), Ct));
    }

    [Fact]
    public async Task List_ReturnsEveryRegistration_OfSeveralPuppetsInOneCorp()
    {
        var registry = await CreateRegistryAsync();
        var corpId = "ww" + Guid.NewGuid().ToString("N")[..16];
        var puppets = Enumerable.Range(0, 3).Select(_ => Registrations.New(corpId)).ToList();
        foreach (var puppet in puppets)
        {
            await registry.UpsertAsync(puppet, Ct);
        }

        var listed = (await registry.ListAsync(Ct)).Where(p => p.CorpId == corpId).OrderBy(p => p.KfId).ToList();

        Assert.Equal(puppets.OrderBy(p => p.KfId), listed);
    }

    [Fact]
    public async Task Values_WithQuotesAndUnicode_AreStoredVerbatim()
    {
        var registry = await CreateRegistryAsync();
        var registration = Registrations.New() with { KfName = "O'Brien \"客服\" ; DROP TABLE puppets; --", CorpSecret = "s$e{c}r'e\"t" };

        await registry.UpsertAsync(registration, Ct);

        Assert.Equal(registration, await registry.FindAsync(registration.KfId, Ct));
    }

    [Fact]
    public async Task ConcurrentUpserts_OfOneKfId_LeaveOneRecord()
    {
        var registry = await CreateRegistryAsync();
        var kfId = "wk" + Guid.NewGuid().ToString("N");
        var attempts = Enumerable.Range(0, 8).Select(i => Registrations.New(kfId: kfId) with { KfName = "name" + i }).ToList();

        await Task.WhenAll(attempts.Select(a => registry.UpsertAsync(a, Ct)));

        var stored = Assert.Single(await registry.ListAsync(Ct), p => p.KfId == kfId);
        Assert.Contains(stored, attempts);
    }

    [Fact]
    public async Task Ping_OfAWorkingStore_Succeeds()
    {
        var registry = await CreateRegistryAsync();

        await registry.PingAsync(Ct);
    }

    [Fact]
    public async Task ReadChanges_SinceAMarker_ReturnsTheRegistrationsWrittenSince_IncludingADeregistration()
    {
        var registry = await CreateRegistryAsync();
        var before = Registrations.New();
        await registry.UpsertAsync(before, Ct);
        var marker = (await registry.ReadChangesAsync(null, Ct)).Marker;
        Assert.NotNull(marker);
        await Task.Delay(20, Ct);
        var after = Registrations.New();

        await registry.UpsertAsync(after, Ct);
        await registry.MarkOfflineAsync(before.KfId, before.CorpId, Registrations.TruncatedNow(), Ct);
        var changes = await registry.ReadChangesAsync(marker, Ct);

        Assert.False(changes.Complete);
        Assert.Contains(changes.Loaded, p => p.KfId == after.KfId && p.Online);
        Assert.Contains(changes.Loaded, p => p.KfId == before.KfId && !p.Online);
        Assert.True(changes.Marker > marker);
        Assert.True((await registry.ReadChangesAsync(null, Ct)).Complete);
    }

    [Fact]
    public async Task DeregisterOnOneReplica_RegisterAgainOnAnother_BothSeeItOnline_AtOnce()
    {
        var first = await CreateRegistryAsync();
        var second = await CreateRegistryAsync();
        var onFirst = new PuppetDirectory(first, TimeProvider.System, NullLogger<PuppetDirectory>.Instance);
        var onSecond = new PuppetDirectory(second, TimeProvider.System, NullLogger<PuppetDirectory>.Instance);
        var registration = Registrations.New();
        await onFirst.ApplyAsync(await first.UpsertAsync(registration, Ct), Ct);
        await onSecond.RefreshAsync(Ct);

        // The puppet deregisters through the first replica and registers again through the second at once.
        await onFirst.ApplyAsync((await first.MarkOfflineAsync(registration.KfId, registration.CorpId, Registrations.TruncatedNow(), Ct))!, Ct);
        await onSecond.ApplyAsync(await second.UpsertAsync(registration, Ct), Ct);

        // Before dead-lettering for "offline", the first replica reads the puppet itself; its catch-up agrees.
        var confirmed = await onFirst.ConfirmAsync(registration.CorpId, registration.KfId, Ct);
        Assert.True(confirmed!.Online);
        Assert.True(onFirst.Find(registration.KfId)!.Registration.Online);
        await onFirst.CatchUpAsync(Ct);
        await onSecond.CatchUpAsync(Ct);
        Assert.True(onFirst.Find(registration.KfId)!.Registration.Online);
        Assert.True(onSecond.Find(registration.KfId)!.Registration.Online);
    }
}
