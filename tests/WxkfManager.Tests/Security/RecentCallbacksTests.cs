using Microsoft.Extensions.Options;
using WxkfManager.Settings;
using WxkfManager.Security;

namespace WxkfManager.Tests.Security;

/// <summary>The resend cache answers what it holds, forgets the oldest first, and never grows past its size.</summary>
public sealed class RecentCallbacksTests
{
    private static RecentCallbacks NewCache(int size) => new(Options.Create(new CallbackOptions { RecentCallbackCacheSize = size }));

    private static string Key(int i) => $"{i:x40}|17000000{i % 100:D2}|nonce{i}";

    [Fact]
    public void AnAddedSignature_IsRecognised_AndAnotherIsNot()
    {
        var cache = NewCache(10);

        cache.Add(Key(1));

        Assert.True(cache.Contains(Key(1)));
        Assert.False(cache.Contains(Key(2)));
        // The same signature with another timestamp or nonce is another callback.
        Assert.False(cache.Contains(Key(1).Replace("nonce1", "nonce2", StringComparison.Ordinal)));
    }

    [Fact]
    public void WhenFull_TheOldestIsForgotten_AndTheSizeHolds()
    {
        var cache = NewCache(1_000);

        for (var i = 0; i < 5_000; i++)
        {
            cache.Add(Key(i));
        }

        Assert.Equal(1_000, cache.Count);
        Assert.False(cache.Contains(Key(3_999)));
        Assert.True(cache.Contains(Key(4_000)));
        Assert.True(cache.Contains(Key(4_999)));
    }

    [Fact]
    public void AddingTheSameSignatureTwice_TakesOnePlace()
    {
        var cache = NewCache(2);

        cache.Add(Key(1));
        cache.Add(Key(1));
        cache.Add(Key(2));

        Assert.Equal(2, cache.Count);
        Assert.True(cache.Contains(Key(1)));
        Assert.True(cache.Contains(Key(2)));
    }

    [Fact]
    public void SizeZero_RemembersNothing()
    {
        var cache = NewCache(0);

        cache.Add(Key(1));

        Assert.False(cache.Contains(Key(1)));
        Assert.Equal(0, cache.Count);
    }

    [Fact]
    public void ConcurrentAdds_KeepTheBound()
    {
        var cache = NewCache(500);

        Parallel.For(0, 20_000, i => cache.Add(Key(i)));

        Assert.Equal(500, cache.Count);
    }
}
