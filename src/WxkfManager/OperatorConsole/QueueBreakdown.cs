using MongoDB.Bson;
using MongoDB.Driver;
using WxkfManager.Delivery;
using WxkfManager.Registry;

namespace WxkfManager.OperatorConsole;

/// <summary>What waits for one puppet: queued (all pending), due now, and being delivered (leased).</summary>
public sealed record QueuedCounts(int Queued, int Due, int InFlight)
{
    public static readonly QueuedCounts None = new(0, 0, 0);
}

/// <summary>The delivery queue counted per puppet, read straight from the store the queue lives in.</summary>
public interface IQueueBreakdown
{
    Task<IReadOnlyDictionary<string, QueuedCounts>> ByKfIdAsync(DateTime now, CancellationToken cancellationToken);
}

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

public sealed class MongoQueueBreakdown(MongoDeliveryStore store) : IQueueBreakdown
{
    public async Task<IReadOnlyDictionary<string, QueuedCounts>> ByKfIdAsync(DateTime now, CancellationToken cancellationToken)
    {
        var counts = new Dictionary<string, QueuedCounts>(StringComparer.Ordinal);
        using var cursor = await store.Collection.AggregateAsync<BsonDocument>(Pipeline(now), cancellationToken: cancellationToken);
        foreach (var row in await cursor.ToListAsync(cancellationToken))
        {
            counts[row["_id"].AsString] = new QueuedCounts(row["queued"].ToInt32(), row["due"].ToInt32(), row["inFlight"].ToInt32());
        }
        return counts;
    }

    /// <summary>Pending documents grouped by kfId; public so a test can check the rendering without a server.</summary>
    internal static PipelineDefinition<DeliveryDocument, BsonDocument> Pipeline(DateTime now)
    {
        var leased = new BsonDocument("$gt", new BsonArray { "$leaseUntil", now });
        var due = new BsonDocument("$and", new BsonArray
        {
            new BsonDocument("$not", new BsonArray { leased }),
            new BsonDocument("$lte", new BsonArray { "$nextAttemptAt", now }),
        });
        return new BsonDocument[]
        {
            new("$match", new BsonDocument("state", DeliveryState.Pending.ToString())),
            new("$group", new BsonDocument
            {
                { "_id", "$kfId" },
                { "queued", new BsonDocument("$sum", 1) },
                { "due", new BsonDocument("$sum", new BsonDocument("$cond", new BsonArray { due, 1, 0 })) },
                { "inFlight", new BsonDocument("$sum", new BsonDocument("$cond", new BsonArray { leased, 1, 0 })) },
            }),
        };
    }
}
