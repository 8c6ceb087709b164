using WxkfManager.Delivery;
using WxkfManager.Storage.Mongo;

namespace WxkfManager.Tests.Delivery;

public sealed class MongoBatchWriterTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A write that records its groups and holds the first one until released, as a slow server would.</summary>
    private sealed class HeldWrite(Func<int, ItemResult>? answer = null, Exception? firstGroupFails = null)
    {
        private readonly TaskCompletionSource _entered = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public List<List<int>> Groups { get; } = [];

        public Task Entered => _entered.Task;

        public void Release() => _release.SetResult();

        public async Task<ItemResult[]> WriteAsync(IReadOnlyList<int> items)
        {
            lock (Groups)
            {
                Groups.Add([.. items]);
            }
            if (Groups.Count == 1)
            {
                _entered.SetResult();
                await _release.Task;
                if (firstGroupFails is not null)
                {
                    throw firstGroupFails;
                }
            }
            return items.Select(answer ?? (i => ItemResult.Of(i % 2 == 0))).ToArray();
        }
    }

    [Fact]
    public async Task WritesArrivingWhileAGroupIsOnTheWire_FormTheNextGroups_OfAtMost256_AndEachCallerGetsItsOwnResult()
    {
        var write = new HeldWrite();
        await using var writer = new MongoBatchWriter<int>(write.WriteAsync);

        var first = writer.WriteAsync(0, Ct);
        await write.Entered.WaitAsync(Ct);
        var rest = Enumerable.Range(1, 300).Select(i => writer.WriteAsync(i, Ct)).ToList();
        write.Release();
        var results = await Task.WhenAll(rest.Prepend(first));

        Assert.Equal([1, 256, 44], write.Groups.Select(g => g.Count));
        Assert.Equal(Enumerable.Range(0, 301), write.Groups.SelectMany(g => g));
        Assert.Equal(Enumerable.Range(0, 301).Select(i => i % 2 == 0), results);
    }

    private static readonly AsyncLocal<string?> BuiltBy = new();

    [Fact]
    public async Task TheWritingLoop_TakesNoContextFromTheCodeThatBuiltIt()
    {
        BuiltBy.Value = "the first request";
        using var request = new System.Diagnostics.Activity("first request").Start();
        (string?, System.Diagnostics.Activity?) seen = default;
        await using var writer = new MongoBatchWriter<int>(items =>
        {
            seen = (BuiltBy.Value, System.Diagnostics.Activity.Current);
            return Task.FromResult(items.Select(_ => ItemResult.Of(true)).ToArray());
        });

        Assert.True(await writer.WriteAsync(1, Ct));

        Assert.Null(seen.Item1);
        Assert.Null(seen.Item2);
    }

    [Fact]
    public async Task AFailedGroup_FailsEachOfItsCallers_AndThoseQueuedMeanwhile_AtOnce()
    {
        var down = new TimeoutException("A timeout occurred after 2000ms selecting a server");
        var write = new HeldWrite(firstGroupFails: down);
        await using var writer = new MongoBatchWriter<int>(write.WriteAsync);

        var first = writer.WriteAsync(0, Ct);
        await write.Entered.WaitAsync(Ct);
        var queued = Enumerable.Range(1, 300).Select(i => writer.WriteAsync(i, Ct)).ToList();
        write.Release();

        foreach (var caller in queued.Prepend(first))
        {
            Assert.Same(down, await Assert.ThrowsAsync<TimeoutException>(() => caller));
        }
        Assert.Single(write.Groups);
        // The writer lives on: the next write after the failure is written.
        Assert.True(await writer.WriteAsync(2, Ct));
    }

    [Fact]
    public async Task AnItemsOwnFailure_FailsThatCallerOnly()
    {
        var refused = new InvalidOperationException("document too large");
        var write = new HeldWrite(i => i == 1 ? ItemResult.Failed(refused) : ItemResult.Of(true));
        await using var writer = new MongoBatchWriter<int>(write.WriteAsync);

        var first = writer.WriteAsync(0, Ct);
        await write.Entered.WaitAsync(Ct);
        var group = Enumerable.Range(1, 3).Select(i => writer.WriteAsync(i, Ct)).ToList();
        write.Release();

        Assert.True(await first);
        Assert.Same(refused, await Assert.ThrowsAsync<InvalidOperationException>(() => group[0]));
        Assert.True(await group[1]);
        Assert.True(await group[2]);
    }

    [Fact]
    public async Task Dispose_WritesWhatIsQueued_ThenRefusesMore()
    {
        var write = new HeldWrite();
        var writer = new MongoBatchWriter<int>(write.WriteAsync);
        var first = writer.WriteAsync(0, Ct);
        await write.Entered.WaitAsync(Ct);
        var queued = writer.WriteAsync(2, Ct);

        var disposed = writer.DisposeAsync().AsTask();
        write.Release();
        await disposed;

        Assert.True(await first);
        Assert.True(await queued);
        Assert.Throws<ObjectDisposedException>(() => { _ = writer.WriteAsync(4, Ct); });
    }

    [Fact]
    public async Task ACancelledCaller_StopsWaiting_WhileTheGroupIsStillOnTheWire()
    {
        var write = new HeldWrite();
        await using var writer = new MongoBatchWriter<int>(write.WriteAsync);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Ct);

        var waiting = writer.WriteAsync(0, cancel.Token);
        await write.Entered.WaitAsync(Ct);
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        write.Release();
    }
}
