using Microsoft.Data.Sqlite;
using WxkfManager.Delivery;

namespace WxkfManager.Storage.Sqlite;

/// <summary>The queue's reads: operator views and counts, on pooled connections beside the writer (WAL lets them run alongside it).</summary>
public sealed partial class SqliteDeliveryStore
{
    public async Task<int> CountQueuedAsync(string kfId, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM deliveries WHERE kf_id = $kfId AND state = 'Pending';";
        command.Parameters.AddWithValue("$kfId", kfId);
        return Convert.ToInt32(await command.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture);
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
        command.CommandText = $"SELECT {Columns} FROM deliveries WHERE state = 'Dead' AND completed_at IS NOT NULL ORDER BY completed_at DESC LIMIT $limit;";
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

    private static async Task<List<DeliveryRecord>> ReadAllAsync(SqliteCommand command, CancellationToken cancellationToken)
    {
        var records = new List<DeliveryRecord>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            records.Add(ReadRecord(reader));
        }
        return records;
    }

    private static List<DeliveryRecord> ReadAll(SqliteCommand command)
    {
        var records = new List<DeliveryRecord>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            records.Add(ReadRecord(reader));
        }
        return records;
    }

    private static DeliveryRecord ReadRecord(SqliteDataReader reader) => new(
        Id: reader.GetString(0),
        Kind: Enum.Parse<CallbackKind>(reader.GetString(1)),
        CorpId: reader.GetString(2),
        KfId: reader.GetString(3),
        Body: reader.GetString(4),
        Query: reader.IsDBNull(5) ? null : new SignedQuery(reader.GetString(5), reader.GetString(6), reader.GetString(7)),
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
        Claims: reader.GetInt32(19));

    // Times are stored as UTC ticks: exact, and ordered as integers.
    private static long Ticks(DateTime value) => value.ToUniversalTime().Ticks;

    private static DateTime FromTicks(long ticks) => new(ticks, DateTimeKind.Utc);
}
