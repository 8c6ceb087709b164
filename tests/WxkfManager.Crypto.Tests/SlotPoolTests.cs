namespace WxkfManager.Crypto.Tests;

public sealed class SlotPoolTests
{
    [Fact]
    public void KeepsAsManyAsItHasSlots_AndDisposesTheRest()
    {
        var pool = new SlotPool<Item>(2);
        Item[] items = [new(), new(), new()];

        foreach (var item in items)
        {
            pool.Return(item);
        }

        Assert.False(items[0].Disposed);
        Assert.False(items[1].Disposed);
        Assert.True(items[2].Disposed);
        Assert.Same(items[0], pool.TryTake());
        Assert.Same(items[1], pool.TryTake());
        Assert.Null(pool.TryTake());
    }

    [Fact]
    public void ConcurrentUse_NeverHandsOneItemToTwoTakers()
    {
        var pool = new SlotPool<Item>(4);
        var overlaps = 0;
        Parallel.For(0, 20_000, _ =>
        {
            var item = pool.TryTake() ?? new Item();
            if (Interlocked.Increment(ref item.Holders) != 1)
            {
                Interlocked.Increment(ref overlaps);
            }
            Interlocked.Decrement(ref item.Holders);
            pool.Return(item);
        });

        Assert.Equal(0, overlaps);
    }

    private sealed class Item : IDisposable
    {
        public int Holders;

        public bool Disposed { get; private set; }

        public void Dispose() => Disposed = true;
    }
}
