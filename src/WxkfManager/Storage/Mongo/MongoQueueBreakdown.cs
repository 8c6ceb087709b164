using MongoDB.Bson;
using MongoDB.Driver;
using WxkfManager.Delivery;

namespace WxkfManager.Storage.Mongo;

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
