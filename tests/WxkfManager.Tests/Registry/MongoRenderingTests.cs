using Microsoft.Extensions.Logging.Abstractions;
using MongoDB.Bson;
using MongoDB.Bson.Serialization;
using MongoDB.Driver;
using WxkfManager.Registry;
using WxkfManager.Storage.Mongo;

namespace WxkfManager.Tests.Registry;

/// <summary>
/// What <see cref="MongoPuppetRegistry"/> reads and writes, checked without a server by field name: the documents
/// must stay those of the original Node service's mongoose schema (kfOpenId, corpId, botEndpoint, ...), and the
/// registry must keep working on the documents that service left behind.
/// </summary>
public sealed class MongoRenderingTests : IDisposable
{
    private static readonly DateTime At = new(2024, 5, 6, 7, 8, 9, 123, DateTimeKind.Utc);

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

    private readonly InMemoryPuppetCollection _stored;
    private readonly MongoPuppetRegistry _registry;

    public MongoRenderingTests()
    {
        (var collection, _stored) = InMemoryPuppetCollection.Create();
        _registry = new MongoPuppetRegistry(collection, NullLogger<MongoPuppetRegistry>.Instance);
    }

    private BsonDocument Raw(string kfId) => Assert.Single(_stored.Documents, d => d["kfOpenId"] == kfId);

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

        var expected = MongooseDocuments.Puppet(id: id);
        expected.Remove("__v");
        expected.Add("lastOnlineDate", new BsonDateTime(At)).Add("registeredAt", new BsonDateTime(At.AddMinutes(1)));
        Assert.Equal(expected, bson);
        Assert.Equal(BsonType.ObjectId, bson["_id"].BsonType);
        Assert.Equal(BsonType.Boolean, bson["online"].BsonType);
        Assert.Equal(BsonType.DateTime, bson["lastOnlineDate"].BsonType);
        Assert.Equal(BsonType.DateTime, bson["registeredAt"].BsonType);
    }

    [Fact]
    public void MongooseDocument_WithVersionKey_AndWithoutOurFields_Deserializes()
    {
        var registration = BsonSerializer.Deserialize<PuppetDocument>(MongooseDocuments.Puppet()).ToRegistration();

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
    public async Task Find_LooksUpTheMongooseDocument_ByKfOpenId()
    {
        _stored.Documents.Add(MongooseDocuments.Puppet("wk2"));
        _stored.Documents.Add(MongooseDocuments.Puppet("wk1"));

        var found = await _registry.FindAsync("wk1", Ct);

        Assert.Equal(Registration with { Online = true, LastOnlineDate = null, RegisteredAt = null }, found);
        Assert.Null(await _registry.FindAsync("wk3", Ct));
    }

    [Fact]
    public async Task List_ReadsEveryDocument_OrderedByKfOpenId()
    {
        foreach (var kfId in new[] { "wk2", "wk3", "wk1" })
        {
            _stored.Documents.Add(MongooseDocuments.Puppet(kfId));
        }

        var listed = await _registry.ListAsync(Ct);

        Assert.Equal(new[] { "wk1", "wk2", "wk3" }, listed.Select(r => r.KfId));
    }

    [Fact]
    public void ChangeWindow_CountsAndSumsTheMarkers_OverTheUpdatedAtIndexAlone()
    {
        var rendered = MongoPuppetRegistry.WindowPipeline(At).Render(
            new RenderArgs<PuppetDocument>(BsonSerializer.LookupSerializer<PuppetDocument>(), BsonSerializer.SerializerRegistry));

        // Only updatedAt is matched and read, so the server answers from the updatedAt_1 index without fetching documents.
        Assert.Equal(
            new BsonArray
            {
                new BsonDocument("$match", new BsonDocument("updatedAt", new BsonDocument("$gte", new BsonDateTime(At)))),
                new BsonDocument("$group", new BsonDocument
                {
                    { "_id", BsonNull.Value },
                    { "count", new BsonDocument("$sum", 1) },
                    { "markers", new BsonDocument("$sum", new BsonDocument("$toLong", "$updatedAt")) },
                }),
            },
            new BsonArray(rendered.Documents));
    }

    [Fact]
    public async Task ReadingTheSameWindowAgain_SendsNoFind_UntilADocumentInItChanges()
    {
        await _registry.UpsertAsync(Registration, Ct);
        var since = DateTime.UtcNow.AddSeconds(-5);
        Assert.Single((await _registry.ReadChangesAsync(since, Ct)).Loaded);
        var finds = _stored.Finds;

        var again = await _registry.ReadChangesAsync(since, Ct);

        Assert.Empty(again.Loaded);
        Assert.Equal(since, again.Marker);
        Assert.Equal(finds, _stored.Finds);
        Raw("wk1")["updatedAt"] = new BsonDateTime(Raw("wk1")["updatedAt"].ToUniversalTime().AddMilliseconds(1));
        Assert.Single((await _registry.ReadChangesAsync(since, Ct)).Loaded);
        Assert.Equal(finds + 1, _stored.Finds);
        _stored.Documents.Clear();
        Assert.Empty((await _registry.ReadChangesAsync(since, Ct)).Loaded);
        Assert.Equal(finds + 2, _stored.Finds);
    }

    [Fact]
    public async Task Upsert_WritesEveryFieldUnderItsMongooseName_Online_WithTheChangeMarker()
    {
        await _registry.UpsertAsync(Registration with { LastOnlineDate = At.AddDays(-1) }, Ct);

        var raw = Raw("wk1");
        Assert.Equal(BsonType.ObjectId, raw["_id"].BsonType);
        Assert.Equal("Support", raw["name"]);
        Assert.Equal("http://10.0.0.5:8080", raw["botEndpoint"]);
        Assert.Equal("ww1", raw["corpId"]);
        Assert.Equal("secret", raw["corpSecret"]);
        Assert.Equal("token", raw["token"]);
        Assert.Equal("key", raw["encodingAESKey"]);
        Assert.Equal(BsonBoolean.True, raw["online"]);
        Assert.Equal(new BsonDateTime(At), raw["registeredAt"]);
        Assert.Equal(new BsonDateTime(At.AddDays(-1)), raw["lastOnlineDate"]);
        Assert.Equal(new BsonArray(), raw["instances"]);
        Assert.Equal(BsonType.DateTime, raw["updatedAt"].BsonType);
    }

    [Fact]
    public async Task Upsert_OverAMongooseDocument_UpdatesItInPlace_AndKeepsItsLastOnlineDate()
    {
        var original = MongooseDocuments.Puppet();
        original["online"] = false;
        original["lastOnlineDate"] = new BsonDateTime(At.AddHours(-1));
        _stored.Documents.Add(original);

        var stored = await _registry.UpsertAsync(Registration with { KfName = "Renamed", LastOnlineDate = At.AddDays(-1) }, Ct);

        var raw = Raw("wk1");
        Assert.Equal(original["_id"], raw["_id"]);
        Assert.Equal(0, raw["__v"].AsInt32);
        Assert.Equal("Renamed", raw["name"]);
        Assert.Equal(BsonBoolean.True, raw["online"]);
        // Only a first registration sets lastOnlineDate: registering again keeps when the puppet last went offline.
        Assert.Equal(new BsonDateTime(At.AddHours(-1)), raw["lastOnlineDate"]);
        Assert.Equal(Registration with { KfName = "Renamed", Online = true, LastOnlineDate = At.AddHours(-1) }, stored);
    }

    [Fact]
    public async Task Upsert_WithoutDates_WritesNulls()
    {
        await _registry.UpsertAsync(Registration with { RegisteredAt = null }, Ct);

        var raw = Raw("wk1");
        Assert.Equal(BsonNull.Value, raw["registeredAt"]);
        Assert.Equal(BsonNull.Value, raw["lastOnlineDate"]);
    }

    [Fact]
    public async Task Upsert_WritesTheInstances_UnderOurOwnFieldNames()
    {
        await _registry.UpsertAsync(Registration with
        {
            Instances = [new PuppetInstance("127.0.0.1", "http://a:1", At), new PuppetInstance("127.0.0.2", "http://b:2", At)],
        }, Ct);

        Assert.Equal(
            new BsonArray
            {
                new BsonDocument { { "address", "127.0.0.1" }, { "endpoint", "http://a:1" }, { "registeredAt", new BsonDateTime(At) } },
                new BsonDocument { { "address", "127.0.0.2" }, { "endpoint", "http://b:2" }, { "registeredAt", new BsonDateTime(At) } },
            },
            Raw("wk1")["instances"]);
    }

    [Fact]
    public void LegacyDocument_WithoutInstances_ReadsAsNone()
    {
        var document = BsonSerializer.Deserialize<PuppetDocument>(MongooseDocuments.Puppet());

        Assert.Empty(document.ToRegistration().Instances);
        Assert.Null(document.ToRegistration().Newest);
    }

    [Fact]
    public async Task MarkOffline_SetsOnlineFalse_AndTheTime_OnlyInItsCorp()
    {
        _stored.Documents.Add(MongooseDocuments.Puppet());

        Assert.Null(await _registry.MarkOfflineAsync("wk1", "ww-other", At, Ct));
        Assert.Equal(BsonBoolean.True, Raw("wk1")["online"]);

        var marked = await _registry.MarkOfflineAsync("wk1", "ww1", At, Ct);

        Assert.False(marked!.Online);
        var raw = Raw("wk1");
        Assert.Equal(BsonBoolean.False, raw["online"]);
        Assert.Equal(new BsonDateTime(At), raw["lastOnlineDate"]);
        Assert.Equal(BsonType.DateTime, raw["updatedAt"].BsonType);
    }

    [Fact]
    public async Task MarkOfflineIfLatest_MatchesOnlyTheRegistrationThatWasRead()
    {
        var seen = await _registry.UpsertAsync(Registration, Ct);

        // Read before another instance registered (the stored registeredAt is not the one read), another kfId or
        // corp, or already offline: nothing changes.
        Assert.Null(await _registry.MarkOfflineIfLatestAsync(seen with { RegisteredAt = At.AddSeconds(-5) }, At, Ct));
        Assert.Null(await _registry.MarkOfflineIfLatestAsync(seen with { KfId = "wk-other" }, At, Ct));
        Assert.Null(await _registry.MarkOfflineIfLatestAsync(seen with { CorpId = "ww-other" }, At, Ct));
        Assert.Equal(BsonBoolean.True, Raw("wk1")["online"]);

        Assert.False((await _registry.MarkOfflineIfLatestAsync(seen, At, Ct))!.Online);
        Assert.Equal(BsonBoolean.False, Raw("wk1")["online"]);
        Assert.Null(await _registry.MarkOfflineIfLatestAsync(seen, At, Ct));
    }

    [Fact]
    public async Task Initialize_CreatesUniqueKfOpenId_AndCorpId_UnderMongooseNames_AndTheChangeMarker()
    {
        await _registry.InitializeAsync(Ct);

        Assert.Equal(
            new (BsonDocument, string?, bool)[]
            {
                (new BsonDocument("kfOpenId", 1), "kfOpenId_1", true),
                (new BsonDocument("corpId", 1), "corpId_1", false),
                (new BsonDocument("updatedAt", 1), "updatedAt_1", false),
            },
            _stored.CreatedIndexes);
    }

    public void Dispose() => _registry.Dispose();
}
