using Microsoft.Extensions.Logging.Abstractions;
using MongoDB.Bson;
using MongoDB.Bson.Serialization;
using MongoDB.Driver;
using WxkfManager.Options;
using WxkfManager.Registry;

namespace WxkfManager.Tests.Registry;

/// <summary>
/// What <see cref="MongoPuppetRegistry"/> sends to MongoDB and where, checked without a server: the
/// collection and field names must stay those of the original Node service's mongoose schema.
/// </summary>
public sealed class MongoRenderingTests
{
    private static readonly RenderArgs<PuppetDocument> Args =
        new(BsonSerializer.LookupSerializer<PuppetDocument>(), BsonSerializer.SerializerRegistry);

    private static readonly DateTime At = new(2024, 5, 6, 7, 8, 9, 123, DateTimeKind.Utc);
    private const string AtJson = """{ "$date" : "2024-05-06T07:08:09.123Z" }""";

    private static readonly PuppetRegistration Registration = new(
        KfId: "wk1",
        KfName: "Support",
        Endpoint: "http://10.0.0.5:8080",
        CorpId: "ww1",
        CorpSecret: "secret",
        Token: "token",
        EncodingAesKey: "key",
        Online: false,
        LastOnlineDate: null,
        RegisteredAt: At);

    [Fact]
    public void Collection_IsTheOneMongooseNamed()
    {
        Assert.Equal("wxkfpuppets", MongoPuppetRegistry.CollectionName);
    }

    [Theory]
    [InlineData("mongodb://127.0.0.1:27017/wxkf-prod", "wxkf-prod")]
    [InlineData("mongodb://user:pass@127.0.0.1:27017/tenant?authSource=admin", "tenant")]
    [InlineData("mongodb://127.0.0.1:27017", "test")]
    [InlineData("mongodb://127.0.0.1:27017/", "test")]
    [InlineData("mongodb://127.0.0.1:27017/?replicaSet=rs0", "test")]
    public void Database_ComesFromTheUri_ElseTheOriginalsDefault(string uri, string database)
    {
        using var registry = new MongoPuppetRegistry(
            Microsoft.Extensions.Options.Options.Create(new StorageOptions { MongoUri = uri }),
            NullLogger<MongoPuppetRegistry>.Instance);

        Assert.Equal(database, registry.Collection.Database.DatabaseNamespace.DatabaseName);
        Assert.Equal("wxkfpuppets", registry.Collection.CollectionNamespace.CollectionName);
    }

    [Theory]
    [InlineData(null)]
    [InlineData(" ")]
    public void MissingUri_IsRejected(string? uri)
    {
        Assert.Throws<InvalidOperationException>(() => new MongoPuppetRegistry(
            Microsoft.Extensions.Options.Options.Create(new StorageOptions { MongoUri = uri }),
            NullLogger<MongoPuppetRegistry>.Instance));
    }

    [Fact]
    public void Document_SerializesWithTheMongooseFieldNamesAndTypes()
    {
        var id = ObjectId.GenerateNewId();
        var document = new PuppetDocument
        {
            Id = id,
            Endpoint = "http://10.0.0.5:8080",
            KfName = "Support",
            KfId = "wk1",
            CorpId = "ww1",
            CorpSecret = "secret",
            Token = "token",
            EncodingAesKey = "key",
            Online = true,
            LastOnlineDate = At,
            RegisteredAt = At.AddMinutes(1),
        };

        var bson = document.ToBsonDocument();

        var expected = new BsonDocument
        {
            { "_id", id },
            { "botEndpoint", "http://10.0.0.5:8080" },
            { "name", "Support" },
            { "kfOpenId", "wk1" },
            { "corpId", "ww1" },
            { "corpSecret", "secret" },
            { "token", "token" },
            { "encodingAESKey", "key" },
            { "online", true },
            { "lastOnlineDate", new BsonDateTime(At) },
            { "registeredAt", new BsonDateTime(At.AddMinutes(1)) },
        };
        Assert.Equal(expected, bson);
        Assert.Equal(BsonType.ObjectId, bson["_id"].BsonType);
        Assert.Equal(BsonType.Boolean, bson["online"].BsonType);
        Assert.Equal(BsonType.DateTime, bson["lastOnlineDate"].BsonType);
        Assert.Equal(BsonType.DateTime, bson["registeredAt"].BsonType);
    }

    [Fact]
    public void MongooseDocument_WithVersionKey_AndWithoutOurFields_Deserializes()
    {
        var mongoose = new BsonDocument
        {
            { "_id", ObjectId.GenerateNewId() },
            { "botEndpoint", "http://10.0.0.5:8080" },
            { "name", "Support" },
            { "kfOpenId", "wk1" },
            { "corpId", "ww1" },
            { "corpSecret", "secret" },
            { "token", "token" },
            { "encodingAESKey", "key" },
            { "online", true },
            { "__v", 0 },
        };

        var registration = BsonSerializer.Deserialize<PuppetDocument>(mongoose).ToRegistration();

        Assert.Equal(Registration with { Online = true, LastOnlineDate = null, RegisteredAt = null }, registration);
    }

    [Fact]
    public void NullDates_DeserializeAsNull_AndDatesAsUtc()
    {
        var withNull = new BsonDocument { { "kfOpenId", "wk1" }, { "online", false }, { "lastOnlineDate", BsonNull.Value }, { "registeredAt", BsonNull.Value } };
        var withDate = new BsonDocument { { "kfOpenId", "wk1" }, { "online", false }, { "lastOnlineDate", new BsonDateTime(At) } };

        var nulls = BsonSerializer.Deserialize<PuppetDocument>(withNull);
        var dated = BsonSerializer.Deserialize<PuppetDocument>(withDate);

        Assert.Null(nulls.LastOnlineDate);
        Assert.Null(nulls.RegisteredAt);
        Assert.Equal(At, dated.LastOnlineDate);
        Assert.Equal(DateTimeKind.Utc, dated.LastOnlineDate!.Value.Kind);
    }

    [Fact]
    public void Dates_RoundTripAtMillisecondPrecision()
    {
        var document = new PuppetDocument { LastOnlineDate = At.AddTicks(4567) };

        var roundTripped = BsonSerializer.Deserialize<PuppetDocument>(document.ToBsonDocument());

        Assert.Equal(At, roundTripped.LastOnlineDate);
    }

    [Fact]
    public void ByKfId_RendersAnEqualityOnKfOpenId()
    {
        Assert.Equal("""{ "kfOpenId" : "wk1" }""", MongoPuppetRegistry.Filters.ByKfId("wk1").Render(Args).ToJson());
    }

    [Fact]
    public void ByKfIdInCorp_RendersBothEqualities()
    {
        Assert.Equal(
            """{ "kfOpenId" : "wk1", "corpId" : "ww1" }""",
            MongoPuppetRegistry.Filters.ByKfIdInCorp("wk1", "ww1").Render(Args).ToJson());
    }

    [Fact]
    public void All_RendersAnEmptyFilter()
    {
        Assert.Equal("{ }", MongoPuppetRegistry.Filters.All.Render(Args).ToJson());
    }

    [Fact]
    public void ListOrder_IsByKfOpenId()
    {
        Assert.Equal("""{ "kfOpenId" : 1 }""", MongoPuppetRegistry.ListOrder.Render(Args).ToJson());
    }

    [Fact]
    public void Upsert_SetsEveryFieldOnline_AndLastOnlineDateOnlyOnInsert()
    {
        var update = MongoPuppetRegistry.Updates.Upsert(Registration with { LastOnlineDate = At.AddDays(-1) });

        Assert.Equal(
            $$"""{ "$set" : { "kfOpenId" : "wk1", "name" : "Support", "botEndpoint" : "http://10.0.0.5:8080", "corpId" : "ww1", "corpSecret" : "secret", "token" : "token", "encodingAESKey" : "key", "online" : true, "registeredAt" : {{AtJson}}, "instances" : [] }, "$setOnInsert" : { "lastOnlineDate" : { "$date" : "2024-05-05T07:08:09.123Z" } }, "$currentDate" : { "updatedAt" : true } }""",
            update.Render(Args).ToJson());
    }

    [Fact]
    public void Upsert_WithoutDates_WritesNulls()
    {
        var update = MongoPuppetRegistry.Updates.Upsert(Registration with { RegisteredAt = null }).Render(Args).AsBsonDocument;

        Assert.Equal(BsonNull.Value, update["$set"]["registeredAt"]);
        Assert.Equal(new BsonDocument("lastOnlineDate", BsonNull.Value), update["$setOnInsert"]);
    }

    [Fact]
    public void Upsert_WritesTheInstances_UnderOurOwnFieldNames()
    {
        var update = MongoPuppetRegistry.Updates.Upsert(Registration with
        {
            Instances = [new PuppetInstance("127.0.0.1", "http://a:1", At), new PuppetInstance("127.0.0.2", "http://b:2", At)],
        }).Render(Args).AsBsonDocument;

        Assert.Equal(
            $$"""[{ "address" : "127.0.0.1", "endpoint" : "http://a:1", "registeredAt" : {{AtJson}} }, { "address" : "127.0.0.2", "endpoint" : "http://b:2", "registeredAt" : {{AtJson}} }]""",
            update["$set"]["instances"].ToJson());
    }

    [Fact]
    public void LegacyDocument_WithoutInstances_ReadsAsNone()
    {
        var document = BsonSerializer.Deserialize<PuppetDocument>(
            """{ "kfOpenId" : "wk1", "name" : "n", "botEndpoint" : "http://a", "corpId" : "ww1", "corpSecret" : "s", "token" : "t", "encodingAESKey" : "k", "online" : true, "__v" : 0 }""");

        Assert.Empty(document.ToRegistration().Instances);
        Assert.Null(document.ToRegistration().Newest);
    }

    [Fact]
    public void MarkOfflineIfLatest_MatchesOnlyTheRegistrationThatWasRead()
    {
        Assert.Equal(
            $$"""{ "kfOpenId" : "wk1", "corpId" : "ww1", "online" : true, "registeredAt" : {{AtJson}} }""",
            MongoPuppetRegistry.Filters.StillLatest(Registration).Render(Args).ToJson());
    }

    [Fact]
    public void MarkOffline_SetsOnlineFalse_AndTheTime()
    {
        Assert.Equal(
            $$"""{ "$set" : { "online" : false, "lastOnlineDate" : {{AtJson}} }, "$currentDate" : { "updatedAt" : true } }""",
            MongoPuppetRegistry.Updates.MarkOffline(At).Render(Args).ToJson());
    }

    [Fact]
    public void Indexes_AreUniqueKfOpenId_AndCorpId_UnderMongooseNames_AndTheChangeMarker()
    {
        var indexes = MongoPuppetRegistry.Indexes;

        Assert.Collection(
            indexes,
            kfId =>
            {
                Assert.Equal("""{ "kfOpenId" : 1 }""", kfId.Keys.Render(Args).ToJson());
                Assert.Equal("kfOpenId_1", kfId.Options.Name);
                Assert.True(kfId.Options.Unique);
            },
            corp =>
            {
                Assert.Equal("""{ "corpId" : 1 }""", corp.Keys.Render(Args).ToJson());
                Assert.Equal("corpId_1", corp.Options.Name);
                Assert.NotEqual(true, corp.Options.Unique);
            },
            marker =>
            {
                Assert.Equal("""{ "updatedAt" : 1 }""", marker.Keys.Render(Args).ToJson());
                Assert.Equal("updatedAt_1", marker.Options.Name);
            });
    }
}
