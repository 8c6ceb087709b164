using System.Threading.Channels;
using Microsoft.Data.Sqlite;
using WxkfManager.Registry;

namespace WxkfManager.Delivery;

/// <summary>
/// Group commit for SQLite writes: items arriving together share one transaction, since SQLite takes one
/// writer at a time and Microsoft.Data.Sqlite blocks a thread for each statement. Each caller still gets
/// its own item's result.
/// </summary>
public sealed class SqliteBatchWriter<TItem>(
    SqliteDatabase database,
    Func<SqliteConnection, SqliteTransaction, IReadOnlyList<TItem>, Task<bool[]>> write) : IAsyncDisposable
{
    private const int MaxBatch = 256;

    private readonly Channel<(TItem Item, TaskCompletionSource<bool> Done)> _items =
        Channel.CreateUnbounded<(TItem, TaskCompletionSource<bool>)>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Lock _startLock = new();
    private Task? _loop;

    public Task<bool> WriteAsync(TItem item, CancellationToken cancellationToken)
    {
        lock (_startLock)
        {
            _loop ??= Task.Run(RunAsync, CancellationToken.None);
        }
        var done = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_items.Writer.TryWrite((item, done)))
        {
            throw new ObjectDisposedException(nameof(SqliteBatchWriter<TItem>));
        }
        return done.Task.WaitAsync(cancellationToken);
    }

    private async Task RunAsync()
    {
        var batch = new List<(TItem Item, TaskCompletionSource<bool> Done)>(MaxBatch);
        while (await _items.Reader.WaitToReadAsync())
        {
            batch.Clear();
            while (batch.Count < MaxBatch && _items.Reader.TryRead(out var entry))
            {
                batch.Add(entry);
            }
            try
            {
                await using var connection = await database.OpenAsync(CancellationToken.None);
                await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync();
                var results = await write(connection, transaction, batch.ConvertAll(b => b.Item));
                await transaction.CommitAsync();
                for (var i = 0; i < batch.Count; i++)
                {
                    batch[i].Done.TrySetResult(results[i]);
                }
            }
            catch (Exception exception)
            {
                foreach (var (_, done) in batch)
                {
                    done.TrySetException(exception);
                }
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _items.Writer.TryComplete();
        if (_loop is not null)
        {
            await _loop;
        }
    }
}
