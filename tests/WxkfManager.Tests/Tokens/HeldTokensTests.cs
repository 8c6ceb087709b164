using WxkfManager.Tokens;

namespace WxkfManager.Tests.Tokens;

/// <summary>What a replica remembers of the tokens it served, so the proxy can refresh one WeCom rejects: bounded.</summary>
public sealed class HeldTokensTests
{
    private static readonly DateTime T0 = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    private static CachedToken Token(string corpId, int n) =>
        new(AccessTokenService.CacheKey(corpId, "secret-" + corpId), corpId, $"{corpId}-token-{n}", T0.AddMinutes(n).AddHours(2), T0.AddMinutes(n));

    [Fact]
    public void AServedToken_LeadsBackToItsCorpAndSecret_AndTheNewestIsCurrent()
    {
        var held = new HeldTokens();
        held.Remember(Token("wwa", 1), "secret-wwa");
        held.Remember(Token("wwa", 2), "secret-wwa");
        held.Remember(Token("wwb", 1), "secret-wwb");

        Assert.Equal(("wwa", "secret-wwa"), held.OwnerOf("wwa-token-1"));
        Assert.Equal(("wwb", "secret-wwb"), held.OwnerOf("wwb-token-1"));
        Assert.Null(held.OwnerOf("never-served"));
        Assert.Equal("wwa-token-2", held.Current(Token("wwa", 0).CacheKey)!.AccessToken);
        Assert.Equal(2, held.All().Count);
    }

    [Fact]
    public void AKeyRefreshedWithoutEnd_KeepsOnlyItsLastTokens()
    {
        var held = new HeldTokens();
        const int refreshes = 10_000;
        for (var n = 1; n <= refreshes; n++)
        {
            held.Remember(Token("wwbusy", n), "secret-wwbusy");
            // The same token seen again (read back from the store) takes no extra room.
            held.Remember(Token("wwbusy", n), "secret-wwbusy");
        }

        Assert.Equal(HeldTokens.ServedKeptPerKey, held.ServedCount);
        Assert.Null(held.OwnerOf("wwbusy-token-1"));
        Assert.Null(held.OwnerOf($"wwbusy-token-{refreshes - HeldTokens.ServedKeptPerKey}"));
        Assert.Equal(("wwbusy", "secret-wwbusy"), held.OwnerOf($"wwbusy-token-{refreshes - HeldTokens.ServedKeptPerKey + 1}"));
        Assert.Equal(("wwbusy", "secret-wwbusy"), held.OwnerOf($"wwbusy-token-{refreshes}"));
        Assert.Single(held.All());
    }
}
