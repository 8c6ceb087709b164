using System.Text.Json;
using Microsoft.Data.Sqlite;
using WxkfManager.Registry;
using WxkfManager.Delivery;

namespace WxkfManager.Storage.Sqlite;

/// <summary>
/// The delivery queue in the embedded SQLite file, for a single manager instance. Every write goes through one
/// <see cref="SqliteWriter"/>, which commits whatever writes arrive together as one transaction.
/// </summary>
public sealed partial class SqliteDeliveryStore : IDeliveryStore, IAsyncDisposable
{
    private const string Columns =
        "id, kind, corp_id, kf_id, body, msg_signature, timestamp, nonce, signature_key, token_key, state, attempts, " +
        "received_at, next_attempt_at, expires_at, lease_owner, lease_until, last_error, completed_at, claims";

    // Purged in slices, so a large backlog past retention never holds the writer for long.
    private const int PurgeSlice = 2000;

    // One puppet's events lie scattered over the table's pages (a row holds its body), so moving thousands of them at
    // once (putting off, handing back, waking) costs ~35 µs a row, most of it pages written to the WAL at commit: in one
    // group, the 5,000 events of 50 puppets that stopped answering together held every callback's commit ~200 ms. So such
    // writes go this many rows per writer turn, one turn at a time, and the callbacks' commits pass between the turns.
    private const int RowsPerTurn = 32;

    private readonly SqliteDatabase _database;
    private readonly SqliteWriter _writer;
    private readonly SemaphoreSlim _bulkTurn = new(1, 1);

    public SqliteDeliveryStore(SqliteDatabase database)
    {
        _database = database;
        _writer = new SqliteWriter(database);
    }

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
            CREATE INDEX IF NOT EXISTS ix_deliveries_puppet ON deliveries (kf_id, state);
            -- Partial, so an insert and its completion touch as few index entries as they can: pending rows are
            -- found by due time, finished rows by completion time, and neither index holds the other kind.
            DROP INDEX IF EXISTS ix_deliveries_due;
            DROP INDEX IF EXISTS ix_deliveries_completed;
            CREATE INDEX IF NOT EXISTS ix_deliveries_pending_due ON deliveries (next_attempt_at) WHERE state = 'Pending';
            CREATE INDEX IF NOT EXISTS ix_deliveries_finished ON deliveries (state, completed_at) WHERE completed_at IS NOT NULL;
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

    public Task<EnqueueOutcome> EnqueueAsync(DeliveryRecord record, CancellationToken cancellationToken) =>
        _writer.WriteAsync(writer =>
            Insert(writer, record) ? EnqueueOutcome.Queued
            : Revive(writer, record) ? EnqueueOutcome.Requeued
            : EnqueueOutcome.Duplicate, cancellationToken);

    /// <summary>Inserts the record as given (leased already when its replica delivers it from memory); a resend is skipped.</summary>
    private static bool Insert(SqliteWriter writer, DeliveryRecord record)
    {
        var command = writer.Command($"""
            INSERT INTO deliveries ({Columns}) VALUES
            ($id, $kind, $corpId, $kfId, $body, $signature, $timestamp, $nonce, $signatureKey, $tokenKey, $state, $attempts,
             $receivedAt, $nextAttemptAt, $expiresAt, $leaseOwner, $leaseUntil, $lastError, $completedAt, $claims)
            ON CONFLICT DO NOTHING;
            """);
        SqliteWriter.Bind(command, "$id", record.Id);
        SqliteWriter.Bind(command, "$kind", record.Kind.ToString());
        SqliteWriter.Bind(command, "$corpId", record.CorpId);
        SqliteWriter.Bind(command, "$kfId", record.KfId);
        SqliteWriter.Bind(command, "$body", record.Body);
        SqliteWriter.Bind(command, "$signature", record.Query?.MsgSignature);
        SqliteWriter.Bind(command, "$timestamp", record.Query?.Timestamp);
        SqliteWriter.Bind(command, "$nonce", record.Query?.Nonce);
        SqliteWriter.Bind(command, "$signatureKey", record.SignatureKey);
        SqliteWriter.Bind(command, "$tokenKey", record.TokenKey);
        SqliteWriter.Bind(command, "$state", record.State.ToString());
        SqliteWriter.Bind(command, "$attempts", record.Attempts);
        SqliteWriter.Bind(command, "$receivedAt", Ticks(record.ReceivedAt));
        SqliteWriter.Bind(command, "$nextAttemptAt", Ticks(record.NextAttemptAt));
        SqliteWriter.Bind(command, "$expiresAt", Ticks(record.ExpiresAt));
        SqliteWriter.Bind(command, "$leaseOwner", record.LeaseOwner);
        SqliteWriter.Bind(command, "$leaseUntil", record.LeaseUntil is { } until ? Ticks(until) : null);
        SqliteWriter.Bind(command, "$lastError", record.LastError);
        SqliteWriter.Bind(command, "$completedAt", record.CompletedAt is { } completed ? Ticks(completed) : null);
        SqliteWriter.Bind(command, "$claims", record.Claims);
        return command.ExecuteNonQuery() == 1;
    }

    /// <summary>A repeat of an event that was given up on is not a duplicate to drop: its dead letter is queued again.</summary>
    private static bool Revive(SqliteWriter writer, DeliveryRecord record)
    {
        var command = writer.Command("""
            UPDATE deliveries SET state = 'Pending', attempts = 0, received_at = $receivedAt, next_attempt_at = $nextAttemptAt,
                expires_at = $expiresAt, lease_owner = NULL, lease_until = NULL, completed_at = NULL, claims = 0
            WHERE state = 'Dead' AND (token_key = $tokenKey OR signature_key = $signatureKey);
            """);
        SqliteWriter.Bind(command, "$receivedAt", Ticks(record.ReceivedAt));
        SqliteWriter.Bind(command, "$nextAttemptAt", Ticks(record.NextAttemptAt));
        SqliteWriter.Bind(command, "$expiresAt", Ticks(record.ExpiresAt));
        SqliteWriter.Bind(command, "$tokenKey", record.TokenKey);
        SqliteWriter.Bind(command, "$signatureKey", record.SignatureKey);
        return command.ExecuteNonQuery() > 0;
    }

    public Task<IReadOnlyList<DeliveryRecord>> ClaimDueAsync(string owner, int max, DateTime now, TimeSpan lease, CancellationToken cancellationToken) =>
        ClaimDueAsync(owner, max, now, lease, [], cancellationToken);

    public Task<IReadOnlyList<DeliveryRecord>> ClaimDueAsync(
        string owner, int max, DateTime now, TimeSpan lease, IReadOnlyCollection<string> waitingKfIds, CancellationToken cancellationToken)
    {
        var waiting = waitingKfIds.Count == 0 ? null : JsonSerializer.Serialize(waitingKfIds);
        return _writer.WriteAsync<IReadOnlyList<DeliveryRecord>>(writer =>
        {
            // One statement, so the pick and the lease are atomic against other connections. Each row gets its
            // own lease token (randomblob is evaluated per row) and one more claim counted before anything is sent.
            var command = writer.Command($"""
                UPDATE deliveries SET lease_owner = $owner || '/' || lower(hex(randomblob(16))), lease_until = $leaseUntil, claims = claims + 1
                WHERE id IN (
                    SELECT id FROM deliveries
                    WHERE state = 'Pending' AND next_attempt_at <= $now AND (lease_until IS NULL OR lease_until <= $now)
                      AND ($waiting IS NULL OR kf_id NOT IN (SELECT value FROM json_each($waiting)) OR expires_at <= $now)
                    ORDER BY next_attempt_at, received_at LIMIT $max)
                RETURNING {Columns};
                """);
            SqliteWriter.Bind(command, "$owner", owner);
            SqliteWriter.Bind(command, "$leaseUntil", Ticks(now + lease));
            SqliteWriter.Bind(command, "$now", Ticks(now));
            SqliteWriter.Bind(command, "$max", max);
            SqliteWriter.Bind(command, "$waiting", waiting);
            return ReadAll(command);
        }, cancellationToken);
    }

    public Task<DeliveryRecord?> ClaimOldestForPuppetAsync(string owner, string kfId, DateTime now, TimeSpan lease, CancellationToken cancellationToken) =>
        _writer.WriteAsync(writer =>
        {
            var command = writer.Command($"""
                UPDATE deliveries SET lease_owner = $owner || '/' || lower(hex(randomblob(16))), lease_until = $leaseUntil, claims = claims + 1
                WHERE id = (
                    SELECT id FROM deliveries
                    WHERE kf_id = $kfId AND state = 'Pending' AND (lease_until IS NULL OR lease_until <= $now)
                    ORDER BY received_at LIMIT 1)
                RETURNING {Columns};
                """);
            SqliteWriter.Bind(command, "$owner", owner);
            SqliteWriter.Bind(command, "$leaseUntil", Ticks(now + lease));
            SqliteWriter.Bind(command, "$now", Ticks(now));
            SqliteWriter.Bind(command, "$kfId", kfId);
            return ReadAll(command).SingleOrDefault();
        }, cancellationToken);

    /// <summary>
    /// Reads only the due range of the pending index, and moves what it puts off out of that range: the backlog of a
    /// puppet that stopped answering is passed over once per put-off, not by every claim. The index is named because
    /// the planner preferred the per-puppet one for the kf_id list, which read every event already put off (11 ms
    /// for 15,000 of them, against 0.1 ms), on every claim.
    /// </summary>
    internal const string ParkSql = """
        UPDATE deliveries SET next_attempt_at = MIN($until, expires_at)
        WHERE rowid IN (
            SELECT rowid FROM deliveries INDEXED BY ix_deliveries_pending_due
            WHERE state = 'Pending' AND next_attempt_at <= $now AND (lease_until IS NULL OR lease_until <= $now)
              AND expires_at > $now AND kf_id IN (SELECT value FROM json_each($kfIds))
            LIMIT $rows);
        """;

    public Task<int> ParkAsync(IReadOnlyCollection<string> kfIds, DateTime now, DateTime until, CancellationToken cancellationToken)
    {
        if (kfIds.Count == 0)
        {
            return Task.FromResult(0);
        }
        var names = JsonSerializer.Serialize(kfIds);
        // What a turn puts off is no longer due, so the next turn finds the rest.
        return InTurnsAsync(writer =>
        {
            var command = writer.Command(ParkSql);
            SqliteWriter.Bind(command, "$until", Ticks(until));
            SqliteWriter.Bind(command, "$now", Ticks(now));
            SqliteWriter.Bind(command, "$kfIds", names);
            SqliteWriter.Bind(command, "$rows", RowsPerTurn);
            return command.ExecuteNonQuery();
        }, cancellationToken);
    }

    // What a turn wakes is due at $now, no longer later, so the next turn finds the rest.
    public Task<int> WakeAsync(string kfId, DateTime now, CancellationToken cancellationToken) =>
        InTurnsAsync(writer => WakeCommand(writer, kfId, now).ExecuteNonQuery(), cancellationToken);

    /// <summary>Runs <paramref name="turn"/> (at most <see cref="RowsPerTurn"/> rows) until a turn finds fewer; returns the rows in all.</summary>
    private async Task<int> InTurnsAsync(Func<SqliteWriter, int> turn, CancellationToken cancellationToken)
    {
        var total = 0;
        int rows;
        do
        {
            rows = await OneTurnAsync(turn, cancellationToken);
            total += rows;
        }
        while (rows == RowsPerTurn);
        return total;
    }

    private async Task<int> OneTurnAsync(Func<SqliteWriter, int> turn, CancellationToken cancellationToken)
    {
        await _bulkTurn.WaitAsync(cancellationToken);
        try
        {
            return await _writer.WriteAsync(turn, cancellationToken);
        }
        finally
        {
            _bulkTurn.Release();
        }
    }

    // In turns like the per-puppet wake: at start-up a crash may have left a long put-off backlog, and one statement
    // over all of it would hold the writer while the first callbacks wait on their commits.
    public Task<int> WakeAllAsync(DateTime now, CancellationToken cancellationToken) =>
        InTurnsAsync(writer => WakeCommand(writer, kfId: null, now).ExecuteNonQuery(), cancellationToken);

    private static readonly string WakePuppetSql = WakeSql("kf_id = $kfId AND ");
    private static readonly string WakeEveryPuppetSql = WakeSql("");

    private static string WakeSql(string puppetCondition) => $"""
        UPDATE deliveries SET next_attempt_at = $now
        WHERE rowid IN (
            SELECT rowid FROM deliveries
            WHERE {puppetCondition}state = 'Pending' AND next_attempt_at > $now AND (lease_until IS NULL OR lease_until <= $now)
            LIMIT $rows);
        """;

    /// <summary>Makes put-off events due now, at most <paramref name="rows"/> of them (-1: all): one puppet's, or every puppet's when <paramref name="kfId"/> is null.</summary>
    private static SqliteCommand WakeCommand(SqliteWriter writer, string? kfId, DateTime now, int rows = RowsPerTurn)
    {
        var command = writer.Command(kfId is null ? WakeEveryPuppetSql : WakePuppetSql);
        if (kfId is not null)
        {
            SqliteWriter.Bind(command, "$kfId", kfId);
        }
        SqliteWriter.Bind(command, "$now", Ticks(now));
        SqliteWriter.Bind(command, "$rows", rows);
        return command;
    }

    // Delivered rows keep their keys for the dedup window (DeliveredRetention); the body is no longer needed.
    public Task<bool> MarkDeliveredAsync(string id, string owner, int attempts, DateTime at, CancellationToken cancellationToken) =>
        UpdateLeasedAsync(id, owner, "state = 'Delivered', body = '', attempts = $attempts, completed_at = $at, last_error = NULL",
            [("$attempts", attempts), ("$at", Ticks(at))], cancellationToken);

    public Task<bool> RescheduleAsync(string id, string owner, int attempts, DateTime nextAttemptAt, string error, CancellationToken cancellationToken) =>
        UpdateLeasedAsync(id, owner, "attempts = $attempts, next_attempt_at = $next, last_error = $error",
            [("$attempts", attempts), ("$next", Ticks(nextAttemptAt)), ("$error", error)], cancellationToken);

    public Task<bool> DeadLetterAsync(string id, string owner, int attempts, string reason, DateTime at, CancellationToken cancellationToken) =>
        UpdateLeasedAsync(id, owner, "state = 'Dead', attempts = $attempts, last_error = $error, completed_at = $at",
            [("$attempts", attempts), ("$error", reason), ("$at", Ticks(at))], cancellationToken);

    private Task<bool> UpdateLeasedAsync(string id, string owner, string set, (string Name, object Value)[] parameters, CancellationToken cancellationToken) =>
        _writer.WriteAsync(writer =>
        {
            var command = writer.Command($"""
                UPDATE deliveries SET {set}, lease_owner = NULL, lease_until = NULL, claims = 0
                WHERE id = $id AND state = 'Pending' AND lease_owner = $owner;
                """);
            SqliteWriter.Bind(command, "$id", id);
            SqliteWriter.Bind(command, "$owner", owner);
            foreach (var (name, value) in parameters)
            {
                SqliteWriter.Bind(command, name, value);
            }
            return command.ExecuteNonQuery() == 1;
        }, cancellationToken);

    public Task<bool> RenewLeaseAsync(string id, string leaseToken, DateTime until, CancellationToken cancellationToken) =>
        _writer.WriteAsync(writer =>
        {
            var command = writer.Command("UPDATE deliveries SET lease_until = $until WHERE id = $id AND state = 'Pending' AND lease_owner = $owner;");
            SqliteWriter.Bind(command, "$id", id);
            SqliteWriter.Bind(command, "$owner", leaseToken);
            SqliteWriter.Bind(command, "$until", Ticks(until));
            return command.ExecuteNonQuery() == 1;
        }, cancellationToken);

    public async Task<int> HandBackAsync(IReadOnlyList<DeliveryRecord> held, DateTime? putOffUntil, CancellationToken cancellationToken)
    {
        var handedBack = 0;
        foreach (var rows in held.Chunk(RowsPerTurn))
        {
            handedBack += await OneTurnAsync(writer =>
            {
                var command = writer.Command("""
                    UPDATE deliveries SET lease_owner = NULL, lease_until = NULL, claims = MAX(claims - 1, 0),
                        next_attempt_at = IFNULL(MAX(next_attempt_at, MIN($until, expires_at)), next_attempt_at)
                    WHERE id = $id AND state = 'Pending' AND lease_owner = $owner;
                    """);
                SqliteWriter.Bind(command, "$until", putOffUntil is { } until ? Ticks(until) : null);
                var count = 0;
                foreach (var record in rows)
                {
                    SqliteWriter.Bind(command, "$id", record.Id);
                    SqliteWriter.Bind(command, "$owner", record.LeaseOwner);
                    count += command.ExecuteNonQuery();
                }
                return count;
            }, cancellationToken);
        }
        return handedBack;
    }

    public async Task<bool> ReplayAsync(string id, DateTime now, DateTime expiresAt, CancellationToken cancellationToken) =>
        await ReplayWhereAsync("id = $id", [("$id", id)], now, expiresAt, cancellationToken) == 1;

    public Task<int> ReplayAllAsync(DateTime now, DateTime expiresAt, CancellationToken cancellationToken) =>
        ReplayWhereAsync("1 = 1", [], now, expiresAt, cancellationToken);

    private Task<int> ReplayWhereAsync(string where, (string Name, object Value)[] parameters, DateTime now, DateTime expiresAt, CancellationToken cancellationToken) =>
        _writer.WriteAsync(writer =>
        {
            var command = writer.Command($"""
                UPDATE deliveries SET state = 'Pending', attempts = 0, next_attempt_at = $now, expires_at = $expiresAt,
                    lease_owner = NULL, lease_until = NULL, completed_at = NULL, claims = 0
                WHERE state = 'Dead' AND {where};
                """);
            SqliteWriter.Bind(command, "$now", Ticks(now));
            SqliteWriter.Bind(command, "$expiresAt", Ticks(expiresAt));
            foreach (var (name, value) in parameters)
            {
                SqliteWriter.Bind(command, name, value);
            }
            return command.ExecuteNonQuery();
        }, cancellationToken);

    public Task<int> ReleaseForPuppetAsync(string kfId, DateTime now, DateTime receivedSince, DateTime expiresAt, CancellationToken cancellationToken) =>
        _writer.WriteAsync(writer =>
        {
            // All in this one transaction with the revival (LIMIT -1 is none): a registration is one puppet's, once.
            var due = WakeCommand(writer, kfId, now, rows: -1);
            var revive = writer.Command("""
                UPDATE deliveries SET state = 'Pending', attempts = 0, next_attempt_at = $now, expires_at = $expiresAt,
                    lease_owner = NULL, lease_until = NULL, completed_at = NULL, claims = 0
                WHERE kf_id = $kfId AND state = 'Dead' AND received_at >= $receivedSince;
                """);
            SqliteWriter.Bind(revive, "$kfId", kfId);
            SqliteWriter.Bind(revive, "$now", Ticks(now));
            SqliteWriter.Bind(revive, "$receivedSince", Ticks(receivedSince));
            SqliteWriter.Bind(revive, "$expiresAt", Ticks(expiresAt));
            return due.ExecuteNonQuery() + revive.ExecuteNonQuery();
        }, cancellationToken);

    public async Task<int> PurgeAsync(DateTime deliveredBefore, DateTime deadBefore, CancellationToken cancellationToken)
    {
        var total = 0;
        int purged;
        do
        {
            purged = await _writer.WriteAsync(writer =>
            {
                var command = writer.Command("""
                    DELETE FROM deliveries WHERE rowid IN (
                        SELECT rowid FROM deliveries WHERE state = 'Delivered' AND completed_at < $deliveredBefore
                        UNION ALL
                        SELECT rowid FROM deliveries WHERE state = 'Dead' AND completed_at < $deadBefore
                        LIMIT $slice);
                    """);
                SqliteWriter.Bind(command, "$deliveredBefore", Ticks(deliveredBefore));
                SqliteWriter.Bind(command, "$deadBefore", Ticks(deadBefore));
                SqliteWriter.Bind(command, "$slice", PurgeSlice);
                return command.ExecuteNonQuery();
            }, cancellationToken);
            total += purged;
        }
        while (purged == PurgeSlice);
        return total;
    }

    public ValueTask DisposeAsync() => _writer.DisposeAsync();
}
