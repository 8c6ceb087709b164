using System.Threading.Channels;
using Microsoft.Data.Sqlite;
using WxkfManager.Registry;

namespace WxkfManager.Storage.Sqlite;

/// <summary>
/// The delivery queue's one SQLite writer. SQLite takes one writer at a time and Microsoft.Data.Sqlite runs every
/// statement synchronously, so writes are not spread over thread-pool threads that would queue for the write
/// lock: one dedicated thread owns a connection and its prepared statements, takes whatever writes are waiting,
/// and commits them as one transaction. Each caller's task completes only after its group has committed.
/// </summary>
public sealed class SqliteWriter : IAsyncDisposable
{
    private const int MaxGroup = 512;

    private readonly SqliteDatabase _database;
    private readonly TimeSpan _checkpointInterval;
    private readonly int _walFramesBeforeRestart;
    private readonly Channel<PendingWrite> _writes =
        Channel.CreateUnbounded<PendingWrite>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Dictionary<string, SqliteCommand> _prepared = new(StringComparer.Ordinal);
    private readonly Lock _startLock = new();
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ManualResetEventSlim _stopCheckpoints = new();
    private volatile bool _walTooLong;
    private Thread? _thread;
    private SqliteConnection? _connection;
    private SqliteTransaction? _transaction;

    /// <summary>
    /// Checkpoints five times a second (once a second left bigger bursts beside the callbacks and a longer WAL to
    /// search: ack p99 at 1,000/s 7.1 → 4.5 ms, the SQLite threads 0.27 → 0.15 ms per callback, docs/benchmarks.md),
    /// and restarts a WAL past 262,144 frames (1 GiB of 4 KB pages), see <see cref="RestartWal"/>.
    /// </summary>
    public SqliteWriter(SqliteDatabase database)
        : this(database, TimeSpan.FromMilliseconds(200), walFramesBeforeRestart: 262_144)
    {
    }

    internal SqliteWriter(SqliteDatabase database, TimeSpan checkpointInterval, int walFramesBeforeRestart)
    {
        _database = database;
        _checkpointInterval = checkpointInterval;
        _walFramesBeforeRestart = walFramesBeforeRestart;
    }

    /// <summary>Runs <paramref name="write"/> on the writer thread inside the next group's transaction.</summary>
    public Task<T> WriteAsync<T>(Func<SqliteWriter, T> write, CancellationToken cancellationToken = default)
    {
        EnsureStarted();
        var pending = new PendingWrite<T>(write);
        var queued = _writes.Writer.TryWrite(pending);
        ObjectDisposedException.ThrowIf(!queued, this);
        return cancellationToken.CanBeCanceled ? pending.Task.WaitAsync(cancellationToken) : pending.Task;
    }

    /// <summary>The statement for <paramref name="sql"/>, prepared once per connection and bound to the group's transaction.</summary>
    public SqliteCommand Command(string sql)
    {
        if (!_prepared.TryGetValue(sql, out var command))
        {
            command = _connection!.CreateCommand();
            command.CommandText = sql;
            _prepared[sql] = command;
        }
        command.Transaction = _transaction;
        return command;
    }

    /// <summary>Sets a parameter of a reused statement.</summary>
    public static void Bind(SqliteCommand command, string name, object? value)
    {
        value ??= DBNull.Value;
        if (command.Parameters.Contains(name))
        {
            command.Parameters[name].Value = value;
        }
        else
        {
            command.Parameters.AddWithValue(name, value);
        }
    }

    private void EnsureStarted()
    {
        if (_thread is not null)
        {
            return;
        }
        lock (_startLock)
        {
            if (_thread is null)
            {
                // Started by the first write, often inside a request: UnsafeStart keeps that request's context
                // (its log scope and trace) off threads that outlive it.
                var thread = new Thread(Run) { IsBackground = true, Name = "sqlite-writer" };
                thread.UnsafeStart();
                new Thread(CheckpointLoop) { IsBackground = true, Name = "sqlite-checkpoint" }.UnsafeStart();
                _thread = thread;
            }
        }
    }

    private void Run()
    {
        var group = new List<PendingWrite>(MaxGroup);
        try
        {
            while (_writes.Reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
            {
                group.Clear();
                while (group.Count < MaxGroup && _writes.Reader.TryRead(out var write))
                {
                    group.Add(write);
                }
                if (_walTooLong)
                {
                    RestartWal();
                }
                Commit(group);
            }
        }
        finally
        {
            CloseConnection();
            _stopped.TrySetResult();
        }
    }

    private void Commit(List<PendingWrite> group)
    {
        try
        {
            OpenConnection();
            _transaction = _connection!.BeginTransaction(deferred: false);
            foreach (var write in group)
            {
                try
                {
                    write.Run(this);
                }
                catch (SqliteException exception) when (AbortsGroup(exception))
                {
                    throw;
                }
                catch (Exception exception)
                {
                    // This write alone was wrong (a bug, bad data); the others in its group stand.
                    write.Fail(exception);
                }
            }
            _transaction.Commit();
            foreach (var write in group)
            {
                write.Complete();
            }
        }
        catch (Exception exception)
        {
            TryRollback();
            foreach (var write in group)
            {
                write.Fail(exception);
            }
            if (exception is SqliteException)
            {
                // A file that was locked, full or replaced: start the next group on a fresh connection.
                CloseConnection();
            }
        }
        finally
        {
            _transaction?.Dispose();
            _transaction = null;
        }
    }

    /// <summary>Busy, locked, full, I/O or a corrupt file: the transaction as a whole cannot stand.</summary>
    private static bool AbortsGroup(SqliteException exception) =>
        (exception.SqliteErrorCode & 0xFF) is 5 or 6 or 10 or 11 or 13 or 14 or 26;

    private void OpenConnection()
    {
        if (_connection is not null)
        {
            return;
        }
        _connection = _database.Open();
        // Checkpoints copy the WAL into the database and flush it to disk: done beside the writer (see CheckpointLoop),
        // so a commit never waits for one.
        using var command = _connection.CreateCommand();
        command.CommandText = "PRAGMA wal_autocheckpoint=0;";
        command.ExecuteNonQuery();
    }

    /// <summary>
    /// Checkpoints the WAL on a connection of its own, beside the writer: PASSIVE never blocks the writer or readers.
    /// But under a stream of commits that never pauses it never catches up with the newest frame either, and SQLite
    /// restarts the WAL only after a checkpoint that did: at 1,000 callbacks/s the WAL passed 500 MB within two
    /// minutes. So a WAL still longer than the limit after a round is left for the writer to restart (<see cref="RestartWal"/>).
    /// </summary>
    private void CheckpointLoop()
    {
        while (!_stopCheckpoints.Wait(_checkpointInterval))
        {
            try
            {
                using var connection = _database.Open();
                if (PassiveCheckpoint(connection) > _walFramesBeforeRestart)
                {
                    _walTooLong = true;
                }
            }
            catch (SqliteException)
            {
                // Busy or unavailable this time; the next round tries again, and a failing store shows in its writes.
            }
        }
    }

    /// <summary>
    /// Between two groups, where no other write can slip in: copies the frames written since the last PASSIVE round
    /// and starts the WAL over from its first frame, so the file stops growing. That held the writes up for 10-60 ms
    /// in the load test (it syncs both files), which is why the limit is high: at 1,000 callbacks/s it comes once
    /// every ~37 s. A reader still on an older snapshot would make it wait; it does not wait but tries again after
    /// the next round.
    /// </summary>
    private void RestartWal()
    {
        _walTooLong = false;
        try
        {
            OpenConnection();
            using var command = _connection!.CreateCommand();
            command.CommandText = "PRAGMA busy_timeout=0;";
            command.ExecuteNonQuery();
            try
            {
                command.CommandText = "PRAGMA wal_checkpoint(RESTART);";
                command.ExecuteNonQuery();
            }
            finally
            {
                // The registry writes on connections of its own: the groups must wait for those as before.
                command.CommandText = $"PRAGMA busy_timeout={_database.BusyTimeoutMs};";
                command.ExecuteNonQuery();
            }
        }
        catch (SqliteException)
        {
            // The group's own statements meet the same fault and report it.
        }
    }

    /// <summary>Runs one PASSIVE checkpoint; answers how many frames the WAL holds.</summary>
    private static long PassiveCheckpoint(SqliteConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA wal_checkpoint(PASSIVE);";
        using var reader = command.ExecuteReader();
        reader.Read();
        return reader.GetInt64(1);
    }

    private void TryRollback()
    {
        try
        {
            _transaction?.Rollback();
        }
        catch (Exception)
        {
            // Nothing to roll back: SQLite already rolled the transaction back itself.
        }
    }

    private void CloseConnection()
    {
        foreach (var command in _prepared.Values)
        {
            command.Dispose();
        }
        _prepared.Clear();
        _connection?.Dispose();
        _connection = null;
    }

    public async ValueTask DisposeAsync()
    {
        _stopCheckpoints.Set();
        _writes.Writer.TryComplete();
        if (_thread is not null)
        {
            await _stopped.Task;
        }
    }

    private abstract class PendingWrite
    {
        public abstract void Run(SqliteWriter writer);

        public abstract void Complete();

        public abstract void Fail(Exception exception);
    }

    private sealed class PendingWrite<T>(Func<SqliteWriter, T> write) : PendingWrite
    {
        private readonly TaskCompletionSource<T> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private T? _result;
        private bool _failed;

        public Task<T> Task => _done.Task;

        public override void Run(SqliteWriter writer) => _result = write(writer);

        public override void Complete()
        {
            if (!_failed)
            {
                _done.TrySetResult(_result!);
            }
        }

        public override void Fail(Exception exception)
        {
            _failed = true;
            _done.TrySetException(exception);
        }
    }
}
