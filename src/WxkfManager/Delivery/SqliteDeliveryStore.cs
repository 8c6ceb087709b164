using System.Text.Json;
using Microsoft.Data.Sqlite;
using WxkfManager.Registry;

namespace WxkfManager.Delivery;

/// <summary>
/// The delivery queue in the embedded SQLite file. For a single manager instance. Enqueues and completions
/// are group committed (see <see cref="SqliteBatchWriter{TItem}"/>).
/// </summary>
public sealed class SqliteDeliveryStore : IDeliveryStore, IAsyncDisposable
{
    private const string Columns =
        "id, kind, corp_id, kf_id, body, msg_signature, timestamp, nonce, signature_key, token_key, state, attempts, " +
        "received_at, next_attempt_at, expires_at, lease_owner, lease_until, last_error, completed_at, claims";

    private readonly SqliteDatabase _database;
    private readonly SqliteBatchWriter<DeliveryRecord> _inserts;
    private readonly SqliteBatchWriter<Completion> _completions;

    public SqliteDeliveryStore(SqliteDatabase database)
    {
        _database = database;
        _inserts = new SqliteBatchWriter<DeliveryRecord>(database, InsertAsync);
        _completions = new SqliteBatchWriter<Completion>(database, CompleteAsync);
    }

    private sealed record Completion(string Id, string Owner, int Attempts, DateTime At);

    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        await _database.EnableWalAsync(cancellationToken);
        await using var connection = await _database.OpenAsync(cancellationToken);
        await SqliteDatabase.ExecuteAsync(connection, """
            CREATE TABLE IF NOT EXISTS deliveries (
                id              TEXT PRIMARY KEY NOT NULL,
                kind            TEXT NOT NULL,
                corp_id         TEXT NOT NULL,
                kf_id           TEXT NOT NULL,
                body            TEXT NOT NULL,
                msg_signature   TEXT NULL,
                timestamp       TEXT NULL,
                nonce           TEXT NULL,
                signature_key   TEXT NULL UNIQUE,
                token_key       TEXT NOT NULL UNIQUE,
                state           TEXT NOT NULL,
                attempts        INTEGER NOT NULL,
                received_at     INTEGER NOT NULL,
                next_attempt_at INTEGER NOT NULL,
                expires_at      INTEGER NOT NULL,
                lease_owner     TEXT NULL,
                lease_until     INTEGER NULL,
                last_error      TEXT NULL,
                completed_at    INTEGER NULL
            );
            CREATE INDEX IF NOT EXISTS ix_deliveries_due ON deliveries (state, next_attempt_at);
            CREATE INDEX IF NOT EXISTS ix_deliveries_completed ON deliveries (state, completed_at);
            CREATE INDEX IF NOT EXISTS ix_deliveries_puppet ON deliveries (kf_id, state);
            """, cancellationToken);
        await AddClaimsAsync(connection, cancellationToken);
    }

    /// <summary>Claims since the last finished attempt (see <see cref="DeliveryGate"/>); added to a file created before it existed.</summary>
    private static async Task AddClaimsAsync(SqliteConnection connection, CancellationToken cancellationToken)
    {
        await using var probe = connection.CreateCommand();
        probe.CommandText = "SELECT COUNT(*) FROM pragma_table_info('deliveries') WHERE name = 'claims';";
        if ((long)(await probe.ExecuteScalarAsync(cancellationToken))! == 0)
        {
            await SqliteDatabase.ExecuteAsync(connection, "ALTER TABLE deliveries ADD COLUMN claims INTEGER NOT NULL DEFAULT 0;", cancellationToken);
        }
    }

    public async Task<int> CountQueuedAsync(string kfId, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM deliveries WHERE kf_id = $kfId AND state = 'Pending';";
        command.Parameters.AddWithValue("$kfId", kfId);
        return Convert.ToInt32(await command.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture);
    }

    public Task<bool> TryEnqueueAsync(DeliveryRecord record, CancellationToken cancellationToken) =>
        _inserts.WriteAsync(record, cancellationToken);

    public Task<bool> MarkDeliveredAsync(string id, string owner, int attempts, DateTime at, CancellationToken cancellationToken) =>
        _completions.WriteAsync(new Completion(id, owner, attempts, at), cancellationToken);

    private static async Task<bool[]> CompleteAsync(SqliteConnection connection, SqliteTransaction transaction, IReadOnlyList<Completion> completions)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = """
            UPDATE deliveries SET state = 'Delivered', attempts = $attempts, completed_at = $at, last_error = NULL,
                lease_owner = NULL, lease_until = NULL, claims = 0
            WHERE id = $id AND state = 'Pending' AND lease_owner = $owner;
            """;
        var done = new bool[completions.Count];
        for (var i = 0; i < completions.Count; i++)
        {
            command.Parameters.Clear();
            command.Parameters.AddWithValue("$id", completions[i].Id);
            command.Parameters.AddWithValue("$owner", completions[i].Owner);
            command.Parameters.AddWithValue("$attempts", completions[i].Attempts);
            command.Parameters.AddWithValue("$at", Ticks(completions[i].At));
            done[i] = await command.ExecuteNonQueryAsync() == 1;
        }
        return done;
    }

    /// <summary>Inserts in one transaction; a record whose signature or token key exists already (a resend) is skipped.</summary>
    private static async Task<bool[]> InsertAsync(SqliteConnection connection, SqliteTransaction transaction, IReadOnlyList<DeliveryRecord> records)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = $"""
            INSERT INTO deliveries ({Columns}) VALUES
            ($id, $kind, $corpId, $kfId, $body, $signature, $timestamp, $nonce, $signatureKey, $tokenKey, $state, $attempts,
             $receivedAt, $nextAttemptAt, $expiresAt, NULL, NULL, $lastError, $completedAt, 0)
            ON CONFLICT DO NOTHING;
            """;
        var added = new bool[records.Count];
        for (var i = 0; i < records.Count; i++)
        {
            var record = records[i];
            command.Parameters.Clear();
            command.Parameters.AddWithValue("$id", record.Id);
            command.Parameters.AddWithValue("$kind", record.Kind.ToString());
            command.Parameters.AddWithValue("$corpId", record.CorpId);
            command.Parameters.AddWithValue("$kfId", record.KfId);
            command.Parameters.AddWithValue("$body", record.Body);
            command.Parameters.AddWithValue("$signature", (object?)record.Query?.MsgSignature ?? DBNull.Value);
            command.Parameters.AddWithValue("$timestamp", (object?)record.Query?.Timestamp ?? DBNull.Value);
            command.Parameters.AddWithValue("$nonce", (object?)record.Query?.Nonce ?? DBNull.Value);
            command.Parameters.AddWithValue("$signatureKey", (object?)record.SignatureKey ?? DBNull.Value);
            command.Parameters.AddWithValue("$tokenKey", record.TokenKey);
            command.Parameters.AddWithValue("$state", record.State.ToString());
            command.Parameters.AddWithValue("$attempts", record.Attempts);
            command.Parameters.AddWithValue("$receivedAt", Ticks(record.ReceivedAt));
            command.Parameters.AddWithValue("$nextAttemptAt", Ticks(record.NextAttemptAt));
            command.Parameters.AddWithValue("$expiresAt", Ticks(record.ExpiresAt));
            command.Parameters.AddWithValue("$lastError", (object?)record.LastError ?? DBNull.Value);
            command.Parameters.AddWithValue("$completedAt", record.CompletedAt is { } completed ? Ticks(completed) : DBNull.Value);
            added[i] = await command.ExecuteNonQueryAsync() == 1 || await ReviveAsync(connection, transaction, record);
        }
        return added;
    }

    /// <summary>A repeat of an event that was given up on is not a duplicate to drop: its dead letter is queued again.</summary>
    private static async Task<bool> ReviveAsync(SqliteConnection connection, SqliteTransaction transaction, DeliveryRecord record)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = """
            UPDATE deliveries SET state = 'Pending', attempts = 0, received_at = $receivedAt, next_attempt_at = $nextAttemptAt,
                expires_at = $expiresAt, lease_owner = NULL, lease_until = NULL, completed_at = NULL, claims = 0
            WHERE state = 'Dead' AND (token_key = $tokenKey OR signature_key = $signatureKey);
            """;
        command.Parameters.AddWithValue("$receivedAt", Ticks(record.ReceivedAt));
        command.Parameters.AddWithValue("$nextAttemptAt", Ticks(record.NextAttemptAt));
        command.Parameters.AddWithValue("$expiresAt", Ticks(record.ExpiresAt));
        command.Parameters.AddWithValue("$tokenKey", record.TokenKey);
        command.Parameters.AddWithValue("$signatureKey", (object?)record.SignatureKey ?? DBNull.Value);
        return await command.ExecuteNonQueryAsync() > 0;
    }

    public async ValueTask DisposeAsync()
    {
        await _inserts.DisposeAsync();
        await _completions.DisposeAsync();
    }

    public Task<IReadOnlyList<DeliveryRecord>> ClaimDueAsync(string owner, int max, DateTime now, TimeSpan lease, CancellationToken cancellationToken) =>
        ClaimDueAsync(owner, max, now, lease, [], cancellationToken);

    public async Task<IReadOnlyList<DeliveryRecord>> ClaimDueAsync(
        string owner, int max, DateTime now, TimeSpan lease, IReadOnlyCollection<string> waitingKfIds, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        // One statement, so the pick and the lease are atomic against other connections. Each row gets its
        // own lease token (randomblob is evaluated per row) and one more claim counted before anything is sent.
        command.CommandText = $"""
            UPDATE deliveries SET lease_owner = $owner || '/' || lower(hex(randomblob(16))), lease_until = $leaseUntil, claims = claims + 1
            WHERE id IN (
                SELECT id FROM deliveries
                WHERE state = 'Pending' AND next_attempt_at <= $now AND (lease_until IS NULL OR lease_until <= $now)
                  AND ($waiting IS NULL OR kf_id NOT IN (SELECT value FROM json_each($waiting)) OR expires_at <= $now)
                ORDER BY next_attempt_at, received_at LIMIT $max)
            RETURNING {Columns};
            """;
        command.Parameters.AddWithValue("$owner", owner);
        command.Parameters.AddWithValue("$leaseUntil", Ticks(now + lease));
        command.Parameters.AddWithValue("$now", Ticks(now));
        command.Parameters.AddWithValue("$max", max);
        command.Parameters.AddWithValue("$waiting", waitingKfIds.Count == 0 ? DBNull.Value : JsonSerializer.Serialize(waitingKfIds));
        return await ReadAllAsync(command, cancellationToken);
    }

    public async Task<DeliveryRecord?> ClaimOldestForPuppetAsync(string owner, string kfId, DateTime now, TimeSpan lease, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"""
            UPDATE deliveries SET lease_owner = $owner || '/' || lower(hex(randomblob(16))), lease_until = $leaseUntil, claims = claims + 1
            WHERE id = (
                SELECT id FROM deliveries
                WHERE kf_id = $kfId AND state = 'Pending' AND next_attempt_at <= $now AND (lease_until IS NULL OR lease_until <= $now)
                ORDER BY received_at LIMIT 1)
            RETURNING {Columns};
            """;
        command.Parameters.AddWithValue("$owner", owner);
        command.Parameters.AddWithValue("$leaseUntil", Ticks(now + lease));
        command.Parameters.AddWithValue("$now", Ticks(now));
        command.Parameters.AddWithValue("$kfId", kfId);
        return (await ReadAllAsync(command, cancellationToken)).SingleOrDefault();
    }

    public async Task<IReadOnlyDictionary<string, int>> CountPendingByPuppetAsync(CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT kf_id, COUNT(*) FROM deliveries WHERE state = 'Pending' GROUP BY kf_id;";
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            counts[reader.GetString(0)] = reader.GetInt32(1);
        }
        return counts;
    }

    public Task<bool> RescheduleAsync(string id, string owner, int attempts, DateTime nextAttemptAt, string error, CancellationToken cancellationToken) =>
        UpdateLeasedAsync(id, owner, "attempts = $attempts, next_attempt_at = $next, last_error = $error",
            [("$attempts", attempts), ("$next", Ticks(nextAttemptAt)), ("$error", error)], cancellationToken);

    public Task<bool> DeadLetterAsync(string id, string owner, int attempts, string reason, DateTime at, CancellationToken cancellationToken) =>
        UpdateLeasedAsync(id, owner, "state = 'Dead', attempts = $attempts, last_error = $error, completed_at = $at",
            [("$attempts", attempts), ("$error", reason), ("$at", Ticks(at))], cancellationToken);

    public async Task<DeliveryQueueStats> GetStatsAsync(DateTime now, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT
                COALESCE(SUM(state = 'Pending' AND (lease_until IS NULL OR lease_until <= $now)), 0),
                COALESCE(SUM(state = 'Pending' AND lease_until > $now), 0),
                COALESCE(SUM(state = 'Dead'), 0),
                COALESCE(SUM(state = 'Delivered'), 0),
                MIN(CASE WHEN state = 'Pending' THEN received_at END)
            FROM deliveries;
            """;
        command.Parameters.AddWithValue("$now", Ticks(now));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return new DeliveryQueueStats(
            reader.GetInt32(0), reader.GetInt32(1), reader.GetInt32(2), reader.GetInt32(3),
            reader.IsDBNull(4) ? null : FromTicks(reader.GetInt64(4)));
    }

    public async Task<IReadOnlyList<DeliveryRecord>> ListDeadLettersAsync(int limit, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {Columns} FROM deliveries WHERE state = 'Dead' ORDER BY completed_at DESC LIMIT $limit;";
        command.Parameters.AddWithValue("$limit", limit);
        return await ReadAllAsync(command, cancellationToken);
    }

    public async Task<DeliveryRecord?> FindAsync(string id, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {Columns} FROM deliveries WHERE id = $id;";
        command.Parameters.AddWithValue("$id", id);
        return (await ReadAllAsync(command, cancellationToken)).SingleOrDefault();
    }

    public async Task<bool> ReplayAsync(string id, DateTime now, DateTime expiresAt, CancellationToken cancellationToken) =>
        await ReplayWhereAsync("id = $id", [("$id", id)], now, expiresAt, cancellationToken) == 1;

    public Task<int> ReplayAllAsync(DateTime now, DateTime expiresAt, CancellationToken cancellationToken) =>
        ReplayWhereAsync("1 = 1", [], now, expiresAt, cancellationToken);

    public async Task<int> ReleaseForPuppetAsync(string kfId, DateTime now, DateTime receivedSince, DateTime expiresAt, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            UPDATE deliveries SET next_attempt_at = $now
            WHERE kf_id = $kfId AND state = 'Pending' AND next_attempt_at > $now AND (lease_until IS NULL OR lease_until <= $now);
            UPDATE deliveries SET state = 'Pending', attempts = 0, next_attempt_at = $now, expires_at = $expiresAt,
                lease_owner = NULL, lease_until = NULL, completed_at = NULL, claims = 0
            WHERE kf_id = $kfId AND state = 'Dead' AND received_at >= $receivedSince;
            """;
        command.Parameters.AddWithValue("$kfId", kfId);
        command.Parameters.AddWithValue("$now", Ticks(now));
        command.Parameters.AddWithValue("$receivedSince", Ticks(receivedSince));
        command.Parameters.AddWithValue("$expiresAt", Ticks(expiresAt));
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<int> PurgeAsync(DateTime deliveredBefore, DateTime deadBefore, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            DELETE FROM deliveries
            WHERE (state = 'Delivered' AND completed_at < $deliveredBefore) OR (state = 'Dead' AND completed_at < $deadBefore);
            """;
        command.Parameters.AddWithValue("$deliveredBefore", Ticks(deliveredBefore));
        command.Parameters.AddWithValue("$deadBefore", Ticks(deadBefore));
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private async Task<int> ReplayWhereAsync(string where, (string Name, object Value)[] parameters, DateTime now, DateTime expiresAt, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"""
            UPDATE deliveries SET state = 'Pending', attempts = 0, next_attempt_at = $now, expires_at = $expiresAt,
                lease_owner = NULL, lease_until = NULL, completed_at = NULL, claims = 0
            WHERE state = 'Dead' AND {where};
            """;
        command.Parameters.AddWithValue("$now", Ticks(now));
        command.Parameters.AddWithValue("$expiresAt", Ticks(expiresAt));
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private async Task<bool> UpdateLeasedAsync(string id, string owner, string set, (string Name, object Value)[] parameters, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"""
            UPDATE deliveries SET {set}, lease_owner = NULL, lease_until = NULL, claims = 0
            WHERE id = $id AND state = 'Pending' AND lease_owner = $owner;
            """;
        command.Parameters.AddWithValue("$id", id);
        command.Parameters.AddWithValue("$owner", owner);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    private static async Task<List<DeliveryRecord>> ReadAllAsync(SqliteCommand command, CancellationToken cancellationToken)
    {
        var records = new List<DeliveryRecord>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var query = reader.IsDBNull(5) ? null : new SignedQuery(reader.GetString(5), reader.GetString(6), reader.GetString(7));
            records.Add(new DeliveryRecord(
                Id: reader.GetString(0),
                Kind: Enum.Parse<CallbackKind>(reader.GetString(1)),
                CorpId: reader.GetString(2),
                KfId: reader.GetString(3),
                Body: reader.GetString(4),
                Query: query,
                SignatureKey: reader.IsDBNull(8) ? null : reader.GetString(8),
                TokenKey: reader.GetString(9),
                State: Enum.Parse<DeliveryState>(reader.GetString(10)),
                Attempts: reader.GetInt32(11),
                ReceivedAt: FromTicks(reader.GetInt64(12)),
                NextAttemptAt: FromTicks(reader.GetInt64(13)),
                ExpiresAt: FromTicks(reader.GetInt64(14)),
                LeaseOwner: reader.IsDBNull(15) ? null : reader.GetString(15),
                LeaseUntil: reader.IsDBNull(16) ? null : FromTicks(reader.GetInt64(16)),
                LastError: reader.IsDBNull(17) ? null : reader.GetString(17),
                CompletedAt: reader.IsDBNull(18) ? null : FromTicks(reader.GetInt64(18)),
                Claims: reader.GetInt32(19)));
        }
        return records;
    }

    // Times are stored as UTC ticks: exact, and ordered as integers.
    private static long Ticks(DateTime value) => value.ToUniversalTime().Ticks;

    private static DateTime FromTicks(long ticks) => new(ticks, DateTimeKind.Utc);
}
