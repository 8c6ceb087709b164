using WxkfManager.Tokens;

namespace WxkfManager.Tests.Tokens;

/// <summary>What every <see cref="ITokenStore"/> promises; each test uses its own keys.</summary>
public abstract class TokenStoreContract
{
    protected static readonly DateTime T0 = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    protected abstract Task<ITokenStore> CreateStoreAsync();

    private static string NewKey() => "ww" + Guid.NewGuid().ToString("N")[..8] + ":" + Guid.NewGuid().ToString("N");

    [Fact]
    public async Task Save_ThenGet_ReturnsTheToken()
    {
        var store = await CreateStoreAsync();
        var token = new CachedToken(NewKey(), "ww1", "ACCESS_TOKEN", T0.AddHours(2), T0);

        await store.SaveAsync(token, Ct);

        Assert.Equal(token, await store.GetAsync(token.CacheKey, Ct));
    }

    [Fact]
    public async Task Get_OfAnUnknownKey_IsNull()
    {
        var store = await CreateStoreAsync();

        Assert.Null(await store.GetAsync(NewKey(), Ct));
    }

    [Fact]
    public async Task Save_Again_ReplacesTheToken()
    {
        var store = await CreateStoreAsync();
        var key = NewKey();
        await store.SaveAsync(new CachedToken(key, "ww1", "OLD", T0.AddHours(2), T0), Ct);
        var fresh = new CachedToken(key, "ww1", "NEW", T0.AddHours(4), T0.AddHours(2));

        await store.SaveAsync(fresh, Ct);

        Assert.Equal(fresh, await store.GetAsync(key, Ct));
    }

    [Fact]
    public async Task RefreshLease_IsHeldByOneOwner_UntilItExpiresOrIsReleased()
    {
        var store = await CreateStoreAsync();
        var key = NewKey();

        Assert.True(await store.TryLeaseRefreshAsync(key, "a", T0, T0.AddSeconds(10), Ct));
        Assert.False(await store.TryLeaseRefreshAsync(key, "b", T0.AddSeconds(5), T0.AddSeconds(15), Ct));
        Assert.True(await store.TryLeaseRefreshAsync(key, "a", T0.AddSeconds(5), T0.AddSeconds(15), Ct));
        Assert.True(await store.TryLeaseRefreshAsync(key, "b", T0.AddSeconds(15), T0.AddSeconds(25), Ct));

        await store.ReleaseRefreshAsync(key, "b", Ct);
        Assert.True(await store.TryLeaseRefreshAsync(key, "c", T0.AddSeconds(16), T0.AddSeconds(26), Ct));
    }

    [Fact]
    public async Task Save_ReleasesTheLease_AndALeaseAloneIsNoToken()
    {
        var store = await CreateStoreAsync();
        var key = NewKey();
        await store.TryLeaseRefreshAsync(key, "a", T0, T0.AddSeconds(10), Ct);
        Assert.Null(await store.GetAsync(key, Ct));

        await store.SaveAsync(new CachedToken(key, "ww1", "T", T0.AddHours(2), T0), Ct);

        Assert.True(await store.TryLeaseRefreshAsync(key, "b", T0.AddSeconds(1), T0.AddSeconds(11), Ct));
        Assert.Equal("T", (await store.GetAsync(key, Ct))!.AccessToken);
    }

    [Fact]
    public async Task Release_ByAnotherOwner_ChangesNothing()
    {
        var store = await CreateStoreAsync();
        var key = NewKey();
        await store.TryLeaseRefreshAsync(key, "a", T0, T0.AddSeconds(10), Ct);

        await store.ReleaseRefreshAsync(key, "b", Ct);

        Assert.False(await store.TryLeaseRefreshAsync(key, "b", T0.AddSeconds(1), T0.AddSeconds(11), Ct));
    }

    [Fact]
    public async Task ConcurrentLeases_OnANewKey_HaveOneWinner()
    {
        var store = await CreateStoreAsync();
        var key = NewKey();

        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => Task.Run(() => store.TryLeaseRefreshAsync(key, "owner" + i, T0, T0.AddSeconds(10), Ct), Ct)));

        Assert.Single(results, won => won);
    }

    [Fact]
    public async Task AStaleSave_NeverReplacesATokenFetchedLater()
    {
        var store = await CreateStoreAsync();
        var key = NewKey();
        var newer = new CachedToken(key, "ww1", "NEWER", T0.AddHours(4), T0.AddHours(2));
        await store.SaveAsync(newer, Ct);

        // A slow replica that fetched earlier saves after it.
        await store.SaveAsync(new CachedToken(key, "ww1", "OLDER", T0.AddHours(3), T0.AddHours(1)), Ct);

        Assert.Equal(newer, await store.GetAsync(key, Ct));
    }

    [Fact]
    public async Task AStaleSave_OfANewKey_StillStoresIt()
    {
        var store = await CreateStoreAsync();
        var token = new CachedToken(NewKey(), "ww1", "FIRST", T0.AddHours(2), T0);

        await store.SaveAsync(token, Ct);

        Assert.Equal(token, await store.GetAsync(token.CacheKey, Ct));
    }
}
