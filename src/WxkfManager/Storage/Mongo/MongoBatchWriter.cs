using System.Threading.Channels;
using WxkfManager.Delivery;

namespace WxkfManager.Storage.Mongo;

/// <summary>One caller's answer from a group write: its own result, or the failure that befell it.</summary>
internal readonly record struct ItemResult<TResult>(TResult Value, Exception? Failure)
{
    public static ItemResult<TResult> Of(TResult value) => new(value, null);

    public static ItemResult<TResult> Failed(Exception failure) => new(default!, failure);
}

/// <summary>A yes/no answer from a group write (a completion applied, or not).</summary>
internal readonly record struct ItemResult(bool Value, Exception? Failure)
{
    public static ItemResult Of(bool value) => new(value, null);

    public static ItemResult Failed(Exception failure) => new(false, failure);
}

/// <summary>A <see cref="MongoBatchWriter{TItem, TResult}"/> whose callers get yes or no.</summary>
internal sealed class MongoBatchWriter<TItem>(Func<IReadOnlyList<TItem>, Task<ItemResult[]>> write)
    : MongoBatchWriter<TItem, bool>(async items => [.. (await write(items)).Select(r => new ItemResult<bool>(r.Value, r.Failure))]);

/// <summary>
/// Groups concurrent writes to MongoDB: what callers hand in while a group is on the wire becomes the next
/// group (up to <see cref="MaxGroup"/> items), written with one command by one reader loop. Each caller's task
/// completes with its own item's result once the server has acknowledged the group, or fails with the group's
/// exception. Items queued while a group failed are failed with the same exception at once, so a burst that
/// arrives while the server is down is answered within one server-selection timeout, not one per group.
/// </summary>
internal class MongoBatchWriter<TItem, TResult> : IAsyncDisposable
{
    public const int MaxGroup = 256;

    private readonly Channel<(TItem Item, TaskCompletionSource<TResult> Done)> _items =
        Channel.CreateUnbounded<(TItem, TaskCompletionSource<TResult>)>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Func<IReadOnlyList<TItem>, Task<ItemResult<TResult>[]>> _write;
    private readonly Task _loop;

    /// <param name="write">Writes one group; returns one result per item, in order. Throwing fails the whole group.</param>
    public MongoBatchWriter(Func<IReadOnlyList<TItem>, Task<ItemResult<TResult>[]>> write)
    {
        _write = write;
        // Often built inside the first request that needs it; the loop outlives it, so it takes none of its context.
        _loop = Detached.Run(RunAsync);
    }

    /// <summary>Queues the item; a cancelled caller stops waiting, but an item already queued may still be written.</summary>
    public Task<TResult> WriteAsync(TItem item, CancellationToken cancellationToken)
    {
        var done = new TaskCompletionSource<TResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        var queued = _items.Writer.TryWrite((item, done));
        ObjectDisposedException.ThrowIf(!queued, this);
        return done.Task.WaitAsync(cancellationToken);
    }

    /// <summary>Takes no more items; those queued are still written (see <see cref="DisposeAsync"/> to wait for them).</summary>
    public void Complete() => _items.Writer.TryComplete();

    private async Task RunAsync()
    {
        var group = new List<(TItem Item, TaskCompletionSource<TResult> Done)>(MaxGroup);
        var items = new List<TItem>(MaxGroup);
        while (await _items.Reader.WaitToReadAsync())
        {
            group.Clear();
            items.Clear();
            while (group.Count < MaxGroup && _items.Reader.TryRead(out var entry))
            {
                group.Add(entry);
                items.Add(entry.Item);
            }
            try
            {
                var results = await _write(items);
                for (var i = 0; i < group.Count; i++)
                {
                    if (results[i].Failure is { } failure)
                    {
                        group[i].Done.TrySetException(failure);
                    }
                    else
                    {
                        group[i].Done.TrySetResult(results[i].Value);
                    }
                }
            }
            catch (Exception exception)
            {
                foreach (var (_, done) in group)
                {
                    done.TrySetException(exception);
                }
                while (_items.Reader.TryRead(out var queued))
                {
                    queued.Done.TrySetException(exception);
                }
            }
        }
    }

    /// <summary>Writes what is queued, then stops.</summary>
    public async ValueTask DisposeAsync()
    {
        Complete();
        await _loop;
    }
}
