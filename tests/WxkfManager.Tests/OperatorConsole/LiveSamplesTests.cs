using MongoDB.Bson;
using MongoDB.Bson.Serialization;
using MongoDB.Driver;
using WxkfManager.Delivery;
using WxkfManager.OperatorConsole;
using WxkfManager.Storage.Mongo;

namespace WxkfManager.Tests.OperatorConsole;

public sealed class LiveSamplesTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static CounterSnapshot At(double seconds, double callbacks, double delivered, double latencySum = 0, double latencyCount = 0,
        Dictionary<string, double>? refused = null) =>
        new(T0.AddSeconds(seconds), callbacks, delivered, 0, latencySum, latencyCount, refused ?? []);

    [Fact]
    public void Points_AreRatesBetweenConsecutiveSnapshots()
    {
        var samples = new LiveSamples();
        samples.Add(At(0, 10, 5, 1.0, 4, new() { ["signature_mismatch"] = 2 }));
        samples.Add(At(2, 30, 9, 1.5, 8, new() { ["signature_mismatch"] = 6, ["bad_query"] = 1 }));
        samples.Add(At(4, 30, 9, 1.5, 8, new() { ["signature_mismatch"] = 6, ["bad_query"] = 1 }));

        var points = samples.Points();

        Assert.Equal(2, points.Count);
        Assert.Equal(10, points[0].CallbacksPerSecond);
        Assert.Equal(2, points[0].DeliveriesPerSecond);
        Assert.Equal(125, points[0].AckLatencyMs); // 0.5 s over 4 deliveries
        Assert.Equal(2, points[0].RefusedPerSecond["signature_mismatch"]);
        Assert.Equal(0.5, points[0].RefusedPerSecond["bad_query"]);
        Assert.Equal(0, points[1].CallbacksPerSecond);
        Assert.Null(points[1].AckLatencyMs);
        Assert.Empty(points[1].RefusedPerSecond);
    }

    [Fact]
    public void TheRing_KeepsOnlyTheLatestSnapshots()
    {
        var samples = new LiveSamples();
        for (var i = 0; i < LiveSamples.Capacity + 50; i++)
        {
            samples.Add(At(i, i * 3, 0));
        }

        var points = samples.Points();

        Assert.Equal(LiveSamples.Capacity - 1, points.Count);
        Assert.Equal(T0.AddSeconds(LiveSamples.Capacity + 49), points[^1].At);
        Assert.All(points, p => Assert.Equal(3, p.CallbacksPerSecond));
    }

    [Fact]
    public void MongoQueueBreakdown_GroupsPendingDocumentsByKfId()
    {
        var now = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        var pipeline = MongoQueueBreakdown.Pipeline(now);
        var registry = BsonSerializer.SerializerRegistry;
        var stages = pipeline.Render(new RenderArgs<DeliveryDocument>(registry.GetSerializer<DeliveryDocument>(), registry)).Documents;

        Assert.Equal(new BsonDocument("$match", new BsonDocument("state", "Pending")), stages[0]);
        var group = stages[1]["$group"].AsBsonDocument;
        Assert.Equal("$kfId", group["_id"].AsString);
        Assert.Contains("$leaseUntil", group["inFlight"].ToJson());
        Assert.Contains("$nextAttemptAt", group["due"].ToJson());
    }
}
