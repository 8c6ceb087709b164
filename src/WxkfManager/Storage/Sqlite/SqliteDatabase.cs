using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using WxkfManager.Settings;

namespace WxkfManager.Storage.Sqlite;

/// <summary>The embedded store's one SQLite file (WAL mode), shared by the registry and the delivery queue.</summary>
public sealed class SqliteDatabase : IStoreWriteCheck
{
    public const string FileName = "wxkf-manager.db";

    private readonly string _connectionString;
    private readonly string _pragmas;

    public SqliteDatabase(IOptions<StorageOptions> options)
    {
        var directory = System.IO.Path.GetFullPath(options.Value.DataDirectory);
        DirectoryPath = directory;
        Directory.CreateDirectory(directory);
        Path = System.IO.Path.Combine(directory, FileName);
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = Path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            // Microsoft.Data.Sqlite also retries a busy statement until its command timeout: keep both short.
            DefaultTimeout = (int)Math.Ceiling(options.Value.BusyTimeout.TotalSeconds),
        }.ToString();
        BusyTimeoutMs = (int)options.Value.BusyTimeout.TotalMilliseconds;
        _pragmas = $"PRAGMA synchronous={options.Value.SqliteSynchronous.ToString().ToUpperInvariant()}; " +
            $"PRAGMA busy_timeout={BusyTimeoutMs};";
    }

    public string DirectoryPath { get; }

    public string Path { get; }

    /// <summary>How long a statement waits for a lock before it fails as busy (set on every connection).</summary>
    public int BusyTimeoutMs { get; }


    public async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellationToken);
        // WAL with NORMAL sync: a committed write survives the process being killed; FULL also a power cut.
        await ExecuteAsync(connection, _pragmas, cancellationToken);
        return connection;
    }

    /// <summary>Opens a connection synchronously, for the writer thread that owns one (see WxkfManager.Storage.Sqlite.SqliteWriter).</summary>
    public SqliteConnection Open()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = _pragmas;
        command.ExecuteNonQuery();
        return connection;
    }

    public static async Task ExecuteAsync(SqliteConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// Why a write would fail now, or null: the data directory must take a file (not read-only, not full) and the
    /// database must take a write lock (no other process holding it). Reading alone would still succeed.
    /// </summary>
    public async Task<string?> WhyNotWritableAsync(CancellationToken cancellationToken)
    {
        var probe = System.IO.Path.Combine(DirectoryPath, $".ready-{Guid.NewGuid():N}");
        try
        {
            await File.WriteAllBytesAsync(probe, new byte[512], cancellationToken);
            File.Delete(probe);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return $"data directory {DirectoryPath} is not writable: {exception.Message}";
        }
        try
        {
            await using var connection = await OpenAsync(cancellationToken);
            await ExecuteAsync(connection, "BEGIN IMMEDIATE; ROLLBACK;", cancellationToken);
            return null;
        }
        catch (SqliteException exception) when (exception.SqliteErrorCode is 5 or 6)
        {
            return $"SQLite database {Path} is locked by another writer: {exception.Message}";
        }
        catch (SqliteException exception)
        {
            return $"SQLite database {Path} cannot be written: {exception.Message}";
        }
    }

    public async Task EnableWalAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await ExecuteAsync(connection, "PRAGMA journal_mode=WAL;", cancellationToken);
    }
}
