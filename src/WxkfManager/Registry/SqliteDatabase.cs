using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using WxkfManager.Options;

namespace WxkfManager.Registry;

/// <summary>The embedded store's one SQLite file (WAL mode), shared by the registry and the delivery queue.</summary>
public sealed class SqliteDatabase
{
    public const string FileName = "wxkf-manager.db";

    private readonly string _connectionString;

    public SqliteDatabase(IOptions<StorageOptions> options)
    {
        var directory = System.IO.Path.GetFullPath(options.Value.DataDirectory);
        Directory.CreateDirectory(directory);
        Path = System.IO.Path.Combine(directory, FileName);
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = Path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();
    }

    public string Path { get; }


    public async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellationToken);
        // WAL with NORMAL sync: a committed write survives the process being killed (not a power cut).
        await ExecuteAsync(connection, "PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=30000;", cancellationToken);
        return connection;
    }

    public static async Task ExecuteAsync(SqliteConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task EnableWalAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await ExecuteAsync(connection, "PRAGMA journal_mode=WAL;", cancellationToken);
    }
}
