using Microsoft.Extensions.Options;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging.Abstractions;
using WxkfManager.Settings;
using WxkfManager.Registry;
using WxkfManager.Security;
using WxkfManager.Tokens;
using WxkfManager.Storage.Sqlite;

namespace WxkfManager.Tests.Tokens;

/// <summary>The token store contract holds through the encrypting decorator, and what it writes underneath is ciphertext.</summary>
public sealed class EncryptingTokenStoreTests : TokenStoreContract
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "wxkf-tokens-" + Guid.NewGuid().ToString("N"));
    private readonly string _key = NewKey();
    private ITokenStore? _inner;

    private static string NewKey() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    protected override async Task<ITokenStore> CreateStoreAsync() => Encrypting(await InnerAsync(), _key);

    private async Task<ITokenStore> InnerAsync()
    {
        if (_inner is null)
        {
            _inner = new SqliteTokenStore(new SqliteDatabase(Options.Create(new StorageOptions { DataDirectory = _directory })));
            await _inner.InitializeAsync(Ct);
        }
        return _inner;
    }

    private static EncryptingTokenStore Encrypting(ITokenStore inner, string key) =>
        new(inner, new SecretProtector(key), NullLogger<EncryptingTokenStore>.Instance);

    [Fact]
    public async Task TheStoreUnderneath_HoldsTheTokenEncrypted_AndEverythingElseAsItWas()
    {
        var inner = await InnerAsync();
        var token = new CachedToken("wwenc:" + Guid.NewGuid().ToString("N"), "wwenc", "ACCESS_TOKEN_IN_CLEAR", T0.AddHours(2), T0);

        await Encrypting(inner, _key).SaveAsync(token, Ct);

        var raw = await inner.GetAsync(token.CacheKey, Ct);
        Assert.NotNull(raw);
        Assert.StartsWith(SecretProtector.Prefix, raw.AccessToken, StringComparison.Ordinal);
        Assert.DoesNotContain("ACCESS_TOKEN_IN_CLEAR", raw.AccessToken, StringComparison.Ordinal);
        Assert.Equal(token with { AccessToken = raw.AccessToken }, raw);
        Assert.Equal(token, await Encrypting(inner, _key).GetAsync(token.CacheKey, Ct));
    }

    [Fact]
    public async Task ATokenWrittenUnderAnotherKey_IsReadAsNoToken_SoAFreshOneIsFetched()
    {
        var inner = await InnerAsync();
        var token = new CachedToken("wwold:" + Guid.NewGuid().ToString("N"), "wwold", "OLD_KEY_TOKEN", T0.AddHours(2), T0);
        await Encrypting(inner, NewKey()).SaveAsync(token, Ct);

        Assert.Null(await Encrypting(inner, _key).GetAsync(token.CacheKey, Ct));
    }

    [Fact]
    public async Task ATokenWrittenBeforeTheKeyWasSet_IsReadAsItIs()
    {
        var inner = await InnerAsync();
        var token = new CachedToken("wwplain:" + Guid.NewGuid().ToString("N"), "wwplain", "PLAIN_TOKEN", T0.AddHours(2), T0);
        await inner.SaveAsync(token, Ct);

        Assert.Equal(token, await Encrypting(inner, _key).GetAsync(token.CacheKey, Ct));
    }
}
