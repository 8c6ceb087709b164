using Microsoft.Extensions.Options;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using WxkfManager.Settings;
using WxkfManager.Registry;

namespace WxkfManager.Tests.Registry;

/// <summary>
/// Callbacks naming kfIds or corps the store does not have cost a store read per miss period, not one each;
/// a registration applied here or through the change check is never refused on an earlier miss.
/// </summary>
public sealed class PuppetDirectoryMissTests
{
    private static readonly TimeSpan MissDuration = TimeSpan.FromSeconds(10);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private readonly FakeRegistry _store = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero));

    private PuppetDirectory NewDirectory(int size = 100) => new(_store, _time, NullLogger<PuppetDirectory>.Instance,
        Options.Create(new RegistrationOptions { MissCacheDuration = MissDuration, MissCacheSize = size }));

    [Fact]
    public async Task AFloodForAnUnknownKfId_ReadsThatPuppetOnce_UntilTheMissExpires()
    {
        var known = _store.Add(Registrations.New());
        var directory = NewDirectory();
        await directory.RefreshAsync(Ct);
        var readsAfterLoad = _store.Reads;

        for (var i = 0; i < 1000; i++)
        {
            Assert.Null(await directory.FindInCorpAsync(known.CorpId, "wk-never-registered", Ct));
            Assert.Null(await directory.ConfirmAsync(known.CorpId, "wk-never-registered", Ct));
        }
        Assert.Equal(1, _store.Finds);
        // The one rate-limited catch-up of the first miss, and the one read of the puppet.
        Assert.Equal(readsAfterLoad + 2, _store.Reads);

        _time.Advance(MissDuration);
        Assert.Null(await directory.ConfirmAsync(known.CorpId, "wk-never-registered", Ct));
        Assert.Equal(2, _store.Finds);
    }

    [Fact]
    public async Task AFloodForAnUnknownCorp_CatchesUpOnce_UntilTheMissExpires()
    {
        var directory = NewDirectory();
        await directory.RefreshAsync(Ct);
        var readsAfterLoad = _store.Reads;

        var catchUps = 0;
        for (var i = 0; i < 100; i++)
        {
            // More than a second apart, so the once-a-second limit on catch-ups is not what holds them back.
            _time.Advance(TimeSpan.FromSeconds(1.5));
            if (await directory.TryRefreshOnMissAsync("ww-unknown-corp", Ct))
            {
                catchUps++;
            }
            Assert.Null(await directory.FindInCorpAsync("ww-unknown-corp", "wk-unknown", Ct));
            if (i == 5)
            {
                Assert.Equal(readsAfterLoad + 1, _store.Reads);
            }
        }
        // 150 s of misses: one catch-up per ten-second miss period (every seventh 1.5-second step), not 200.
        Assert.Equal(15, catchUps);
        Assert.Equal(readsAfterLoad + 15, _store.Reads);
        Assert.Equal(0, _store.Finds);
    }

    [Fact]
    public async Task ARegistrationAppliedHere_ForgetsTheMiss_SoItsCallbacksAreNotRefused()
    {
        var directory = NewDirectory();
        var registration = Registrations.New();
        Assert.True(await directory.TryRefreshOnMissAsync(registration.CorpId, Ct));
        _time.Advance(TimeSpan.FromSeconds(2));
        Assert.False(await directory.TryRefreshOnMissAsync(registration.CorpId, Ct));
        Assert.Null(await directory.ConfirmAsync(registration.CorpId, registration.KfId, Ct));
        Assert.Null(await directory.ConfirmAsync(registration.CorpId, registration.KfId, Ct));
        Assert.Equal(1, _store.Finds);

        await directory.ApplyAsync(await _store.UpsertAsync(registration, Ct), Ct);

        Assert.NotNull(await directory.FindInCorpAsync(registration.CorpId, registration.KfId, Ct));
        Assert.Single(directory.CredentialsFor(registration.CorpId));
        // Deregistered here later: the next callback reads the store again, as before the miss.
        var finds = _store.Finds;
        await directory.ApplyAsync((await _store.MarkOfflineAsync(registration.KfId, registration.CorpId, DateTime.UtcNow, Ct))!, Ct);
        Assert.False((await directory.ConfirmAsync(registration.CorpId, registration.KfId, Ct))!.Online);
        Assert.Equal(finds + 1, _store.Finds);
    }

    [Fact]
    public async Task ARegistrationThroughAnotherReplica_ForgetsTheMiss_AtTheChangeCheck()
    {
        var directory = NewDirectory();
        await directory.RefreshAsync(Ct);
        var registration = Registrations.New();
        Assert.Null(await directory.ConfirmAsync(registration.CorpId, registration.KfId, Ct));
        Assert.Null(await directory.ConfirmAsync(registration.CorpId, registration.KfId, Ct));
        Assert.Equal(1, _store.Finds);

        _store.Add(registration);
        await directory.CatchUpAsync(Ct);

        Assert.True((await directory.ConfirmAsync(registration.CorpId, registration.KfId, Ct))!.Online);
        Assert.True((await directory.FindInCorpAsync(registration.CorpId, registration.KfId, Ct))!.Online);
    }

    [Fact]
    public async Task AMissedKfId_RegisteredThroughAnotherReplica_ShowsAtTheNextMissCatchUp_BeforeTheMissExpires()
    {
        var known = _store.Add(Registrations.New());
        var directory = NewDirectory();
        await directory.RefreshAsync(Ct);
        var registration = Registrations.New(known.CorpId);
        Assert.Null(await directory.ConfirmAsync(registration.CorpId, registration.KfId, Ct));

        _store.Add(registration);
        _time.Advance(TimeSpan.FromSeconds(1));

        Assert.True((await directory.ConfirmAsync(registration.CorpId, registration.KfId, Ct))!.Online);
        Assert.Equal(1, _store.Finds);
    }

    [Fact]
    public async Task ARegistrationAppliedWhileTheStoreIsRead_IsNotHiddenByTheMiss()
    {
        var directory = NewDirectory();
        var registration = Registrations.New();
        // The store answers "not there", but the puppet registers here between that read and its answer.
        _store.BeforeFindAnswers = async () =>
        {
            _store.BeforeFindAnswers = null;
            await directory.ApplyAsync(await _store.UpsertAsync(registration, Ct), Ct);
        };

        Assert.True((await directory.ConfirmAsync(registration.CorpId, registration.KfId, Ct))!.Online);

        Assert.True((await directory.ConfirmAsync(registration.CorpId, registration.KfId, Ct))!.Online);
        Assert.Equal(2, _store.Finds);
    }

    [Fact]
    public async Task AnOfflinePuppetsStaleRead_DoesNotUndoARegistrationAppliedMeanwhile()
    {
        var registration = _store.Add(Registrations.New() with { Online = false });
        var directory = NewDirectory();
        await directory.RefreshAsync(Ct);
        _store.BeforeFindAnswers = async () =>
        {
            _store.BeforeFindAnswers = null;
            await directory.ApplyAsync(await _store.UpsertAsync(registration, Ct), Ct);
        };

        Assert.True((await directory.ConfirmAsync(registration.CorpId, registration.KfId, Ct))!.Online);
        Assert.True(directory.Find(registration.KfId)!.Registration.Online);
    }

    [Fact]
    public async Task WhenTheStoreIsDown_NothingIsRemembered()
    {
        var directory = NewDirectory();
        _store.Down = true;
        Assert.Null(await directory.ConfirmAsync("ww-corp", "wk-unknown", Ct));
        _store.Down = false;
        var registration = _store.Add(Registrations.New("ww-corp", "wk-unknown"));

        Assert.NotNull(await directory.ConfirmAsync(registration.CorpId, registration.KfId, Ct));
    }

    [Fact]
    public void TheMisses_AreBoundedAndOldestOut_AndExpire()
    {
        var misses = new RecentMisses(capacity: 3, MissDuration, _time);
        foreach (var id in new[] { "a", "b", "c", "d", "e" })
        {
            misses.Remember(id);
            _time.Advance(TimeSpan.FromSeconds(1));
        }

        Assert.Equal(3, misses.Count);
        Assert.False(misses.Contains("a"));
        Assert.False(misses.Contains("b"));
        Assert.True(misses.Contains("c"));
        Assert.True(misses.Contains("e"));

        misses.Forget("e");
        Assert.False(misses.Contains("e"));
        _time.Advance(MissDuration);
        Assert.False(misses.Contains("c"));
        Assert.False(misses.Contains("d"));
    }

    [Fact]
    public void TheMisses_StayBounded_UnderRepeatedRememberAndForget()
    {
        var misses = new RecentMisses(capacity: 10, MissDuration, _time);
        for (var i = 0; i < 100_000; i++)
        {
            var id = "id" + (i % 50);
            misses.Remember(id);
            if (i % 3 == 0)
            {
                misses.Forget(id);
            }
        }

        Assert.InRange(misses.Count, 1, 10);
        Assert.True(misses.Contains("id48")); // the last one remembered (id49 was forgotten after it)
        Assert.False(misses.Contains("id49"));
    }

    [Fact]
    public async Task ASizeOfZero_RemembersNothing()
    {
        var directory = NewDirectory(size: 0);

        await directory.ConfirmAsync("ww-corp", "wk-unknown", Ct);
        await directory.ConfirmAsync("ww-corp", "wk-unknown", Ct);

        Assert.Equal(2, _store.Finds);
    }
}
