using System.Globalization;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using WxkfManager.Settings;
using WxkfManager.Registry;

namespace WxkfManager.Storage.Sqlite;

/// <summary>The embedded default store: one SQLite file in WAL mode, for a single manager instance.</summary>
public sealed class SqlitePuppetRegistry : IPuppetRegistry
{
    public const string FileName = SqliteDatabase.FileName;

    private const string Columns =
        "kf_id, kf_name, endpoint, corp_id, corp_secret, token, encoding_aes_key, online, last_online_date, registered_at, instances";

    private readonly SqliteDatabase _database;

    public SqlitePuppetRegistry(SqliteDatabase database) => _database = database;

    public SqlitePuppetRegistry(IOptions<StorageOptions> options) : this(new SqliteDatabase(options))
    {
    }

    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        await _database.EnableWalAsync(cancellationToken);
        await using var connection = await OpenAsync(cancellationToken);
        await ExecuteAsync(connection, """
            CREATE TABLE IF NOT EXISTS puppets (
                kf_id            TEXT PRIMARY KEY NOT NULL,
                kf_name          TEXT NOT NULL,
                endpoint         TEXT NOT NULL,
                corp_id          TEXT NOT NULL,
                corp_secret      TEXT NOT NULL,
                token            TEXT NOT NULL,
                encoding_aes_key TEXT NOT NULL,
                online           INTEGER NOT NULL,
                last_online_date TEXT NULL,
                registered_at    TEXT NULL,
                instances        TEXT NULL
            );
            CREATE INDEX IF NOT EXISTS ix_puppets_corp_id ON puppets (corp_id);
            """, cancellationToken);
        await AddColumnIfMissingAsync(connection, "instances", "TEXT NULL", cancellationToken);
        await AddChangeMarkerAsync(connection, cancellationToken);
    }

    // The store's clock, in Unix milliseconds: every process sharing the file reads the same one.
    private const string StoreNowMs = "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)";

    /// <summary>The change marker replicas read incrementally; added to a file created before it existed.</summary>
    private static async Task AddChangeMarkerAsync(SqliteConnection connection, CancellationToken cancellationToken)
    {
        await using var probe = connection.CreateCommand();
        probe.CommandText = "SELECT COUNT(*) FROM pragma_table_info('puppets') WHERE name = 'updated_at';";
        if ((long)(await probe.ExecuteScalarAsync(cancellationToken))! == 0)
        {
            await ExecuteAsync(connection, "ALTER TABLE puppets ADD COLUMN updated_at INTEGER NULL;", cancellationToken);
        }
        await ExecuteAsync(connection, "CREATE INDEX IF NOT EXISTS ix_puppets_updated_at ON puppets (updated_at);", cancellationToken);
    }

    /// <summary>The last window of changes read in full: where it began, how many rows it held, and the sum of their stamps.</summary>
    private sealed record ChangeWindow(long SinceMs, long Count, long StampSum);

    private ChangeWindow? _lastWindow;

    public async Task<RegistryChanges> ReadChangesAsync(DateTime? since, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        if (since is null)
        {
            return await ReadChangesAsync(connection, since, cancellationToken);
        }
        // A catch-up asks for the same window once a second while nothing newer is written (PuppetDirectory's
        // ChangeOverlap): the count and the stamps' sum, from the index alone, tell whether any row in it changed,
        // so the rows are not read again. Taken before the read, so a write landing meanwhile changes the next one.
        var window = await WindowAsync(connection, StampOf(since.Value), cancellationToken);
        if (window == _lastWindow)
        {
            return new RegistryChanges([], [], since, Complete: false);
        }
        var changes = await ReadChangesAsync(connection, since, cancellationToken);
        _lastWindow = window;
        return changes;
    }

    /// <summary>A time as the updated_at column holds it: Unix milliseconds.</summary>
    private static long StampOf(DateTime time) => new DateTimeOffset(time.ToUniversalTime()).ToUnixTimeMilliseconds();

    private static async Task<ChangeWindow> WindowAsync(SqliteConnection connection, long sinceMs, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*), COALESCE(SUM(updated_at), 0) FROM puppets WHERE updated_at >= $since;";
        command.Parameters.AddWithValue("$since", sinceMs);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return new ChangeWindow(sinceMs, reader.GetInt64(0), reader.GetInt64(1));
    }

    private static async Task<RegistryChanges> ReadChangesAsync(SqliteConnection connection, DateTime? since, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = since is null
            ? $"SELECT {Columns}, updated_at FROM puppets ORDER BY kf_id;"
            : $"SELECT {Columns}, updated_at FROM puppets WHERE updated_at >= $since ORDER BY kf_id;";
        if (since is { } marker)
        {
            command.Parameters.AddWithValue("$since", StampOf(marker));
        }
        var loaded = new List<PuppetRegistration>();
        var unloadable = new List<UnloadableRegistration>();
        DateTime? newest = since;
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var registration = ReadRow(reader);
            if (RegistrationCheck.MissingField(registration) is { } missing)
            {
                unloadable.Add(missing);
            }
            else
            {
                loaded.Add(registration);
            }
            if (!reader.IsDBNull(11))
            {
                newest = RegistryChanges.Newest(newest, DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(11)).UtcDateTime);
            }
        }
        return new RegistryChanges(loaded, unloadable, newest, Complete: since is null);
    }


    // A data directory from a version before the column existed gets it on start-up.
    private static async Task AddColumnIfMissingAsync(SqliteConnection connection, string column, string definition, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM pragma_table_info('puppets') WHERE name = $column;";
        command.Parameters.AddWithValue("$column", column);
        if ((long)(await command.ExecuteScalarAsync(cancellationToken))! == 0)
        {
            await ExecuteAsync(connection, $"ALTER TABLE puppets ADD COLUMN {column} {definition};", cancellationToken);
        }
    }

    public async Task<PuppetRegistration> UpsertAsync(PuppetRegistration registration, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"""
            INSERT INTO puppets ({Columns}, updated_at)
            VALUES ($kfId, $kfName, $endpoint, $corpId, $corpSecret, $token, $aesKey, 1, $lastOnline, $registeredAt, $instances, {StoreNowMs})
            ON CONFLICT (kf_id) DO UPDATE SET
                kf_name = excluded.kf_name,
                endpoint = excluded.endpoint,
                corp_id = excluded.corp_id,
                corp_secret = excluded.corp_secret,
                token = excluded.token,
                encoding_aes_key = excluded.encoding_aes_key,
                online = 1,
                registered_at = excluded.registered_at,
                instances = excluded.instances,
                updated_at = excluded.updated_at
            RETURNING {Columns};
            """;
        command.Parameters.AddWithValue("$kfId", registration.KfId);
        command.Parameters.AddWithValue("$kfName", registration.KfName);
        command.Parameters.AddWithValue("$endpoint", registration.Endpoint);
        command.Parameters.AddWithValue("$corpId", registration.CorpId);
        command.Parameters.AddWithValue("$corpSecret", registration.CorpSecret);
        command.Parameters.AddWithValue("$token", registration.Token);
        command.Parameters.AddWithValue("$aesKey", registration.EncodingAesKey);
        command.Parameters.AddWithValue("$lastOnline", FormatDate(registration.LastOnlineDate));
        command.Parameters.AddWithValue("$registeredAt", FormatDate(registration.RegisteredAt));
        command.Parameters.AddWithValue("$instances", InstancesJson.Format(registration.Instances));
        return (await ReadAllAsync(command, cancellationToken)).Single();
    }

    public async Task<PuppetRegistration?> MarkOfflineAsync(string kfId, string corpId, DateTime at, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"""
            UPDATE puppets SET online = 0, last_online_date = $at, updated_at = {StoreNowMs}
            WHERE kf_id = $kfId AND corp_id = $corpId
            RETURNING {Columns};
            """;
        command.Parameters.AddWithValue("$kfId", kfId);
        command.Parameters.AddWithValue("$corpId", corpId);
        command.Parameters.AddWithValue("$at", FormatDate(at));
        return (await ReadAllAsync(command, cancellationToken)).SingleOrDefault();
    }

    public async Task<PuppetRegistration?> MarkOfflineIfLatestAsync(PuppetRegistration seen, DateTime at, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"""
            UPDATE puppets SET online = 0, last_online_date = $at, updated_at = {StoreNowMs}
            WHERE kf_id = $kfId AND corp_id = $corpId AND online = 1 AND registered_at IS $registeredAt
            RETURNING {Columns};
            """;
        command.Parameters.AddWithValue("$kfId", seen.KfId);
        command.Parameters.AddWithValue("$corpId", seen.CorpId);
        command.Parameters.AddWithValue("$registeredAt", FormatDate(seen.RegisteredAt));
        command.Parameters.AddWithValue("$at", FormatDate(at));
        return (await ReadAllAsync(command, cancellationToken)).SingleOrDefault();
    }

    public async Task<PuppetRegistration?> FindAsync(string kfId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {Columns} FROM puppets WHERE kf_id = $kfId;";
        command.Parameters.AddWithValue("$kfId", kfId);
        return (await ReadAllAsync(command, cancellationToken)).SingleOrDefault();
    }

    public async Task<IReadOnlyList<PuppetRegistration>> ListAsync(CancellationToken cancellationToken) =>
        (await ReadChangesAsync(null, cancellationToken)).Loaded;

    public async Task PingAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await ExecuteAsync(connection, "SELECT 1 FROM puppets LIMIT 1;", cancellationToken);
    }

    private Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken) => _database.OpenAsync(cancellationToken);

    private static Task ExecuteAsync(SqliteConnection connection, string sql, CancellationToken cancellationToken) =>
        SqliteDatabase.ExecuteAsync(connection, sql, cancellationToken);

    private static async Task<List<PuppetRegistration>> ReadAllAsync(SqliteCommand command, CancellationToken cancellationToken)
    {
        var rows = new List<PuppetRegistration>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(ReadRow(reader));
        }
        return rows;
    }

    private static PuppetRegistration ReadRow(SqliteDataReader reader) =>
        new(
            KfId: reader.GetString(0),
            KfName: reader.GetString(1),
            Endpoint: reader.GetString(2),
            CorpId: reader.GetString(3),
            CorpSecret: reader.GetString(4),
            Token: reader.GetString(5),
            EncodingAesKey: reader.GetString(6),
            Online: reader.GetInt64(7) != 0,
            LastOnlineDate: ParseDate(reader, 8),
            RegisteredAt: ParseDate(reader, 9))
        {
            Instances = reader.IsDBNull(10) ? [] : InstancesJson.Parse(reader.GetString(10)),
        };

    private static object FormatDate(DateTime? value) =>
        value is { } date ? date.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture) : DBNull.Value;

    private static DateTime? ParseDate(SqliteDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal)
            ? null
            : DateTime.Parse(reader.GetString(ordinal), CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal);
}
