using WxkfManager.Delivery;

namespace WxkfManager.Storage.Sqlite;

public sealed class SqliteQueueBreakdown(SqliteDatabase database) : IQueueBreakdown
{
    public async Task<IReadOnlyDictionary<string, QueuedCounts>> ByKfIdAsync(DateTime now, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        // The (state, next_attempt_at) index narrows this to pending records.
        command.CommandText = """
            SELECT kf_id,
                   COUNT(*),
                   COALESCE(SUM((lease_until IS NULL OR lease_until <= $now) AND next_attempt_at <= $now), 0),
                   COALESCE(SUM(lease_until > $now), 0)
            FROM deliveries WHERE state = 'Pending' GROUP BY kf_id;
            """;
        command.Parameters.AddWithValue("$now", now.ToUniversalTime().Ticks);
        var counts = new Dictionary<string, QueuedCounts>(StringComparer.Ordinal);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            counts[reader.GetString(0)] = new QueuedCounts(reader.GetInt32(1), reader.GetInt32(2), reader.GetInt32(3));
        }
        return counts;
    }
}
