using Microsoft.Extensions.Options;
using Microsoft.Extensions.Logging.Abstractions;
using MongoDB.Bson;
using MongoDB.Driver;
using WxkfManager.Settings;
using WxkfManager.Registry;
using WxkfManager.Tests.Infrastructure;
using WxkfManager.Tests.Registry;
using WxkfManager.Storage.Mongo;

namespace WxkfManager.IntegrationTests.Registry;

public sealed class MongoPuppetRegistryTests(MongoFixture fixture)
    : PuppetRegistryContract, IClassFixture<MongoFixture>, IDisposable
{
    private readonly List<MongoPuppetRegistry> _registries = [];

    protected override async Task<IPuppetRegistry> CreateRegistryAsync() => await CreateMongoRegistryAsync(fixture.Uri);

    [Fact]
    public async Task MongooseDocument_IsReadable()
    {
        var registry = await CreateMongoRegistryAsync(fixture.Uri);
        var expected = Registrations.New() with { LastOnlineDate = null, RegisteredAt = null };
        await Raw(fixture.Uri).InsertOneAsync(MongooseDocument(expected), cancellationToken: Ct);

        Assert.Equal(expected, await registry.FindAsync(expected.KfId, Ct));
        Assert.Contains(expected, await registry.ListAsync(Ct));
    }

    [Fact]
    public async Task Upsert_OverAMongooseDocument_UpdatesItInPlace_AndKeepsItsLastOnlineDate()
    {
        var registry = await CreateMongoRegistryAsync(fixture.Uri);
        var lastOnline = Registrations.TruncatedNow().AddHours(-1);
        var old = Registrations.New() with { Online = false, LastOnlineDate = lastOnline, RegisteredAt = null };
        var original = MongooseDocument(old);
        await Raw(fixture.Uri).InsertOneAsync(original, cancellationToken: Ct);
        var again = Registrations.New(old.CorpId, old.KfId);

        var stored = await registry.UpsertAsync(again, Ct);

        Assert.Equal(again with { LastOnlineDate = lastOnline }, stored);
        var raw = await Raw(fixture.Uri).Find(new BsonDocument("kfOpenId", old.KfId)).SingleAsync(Ct);
        Assert.Equal(original["_id"], raw["_id"]);
        Assert.Equal(0, raw["__v"].AsInt32);
    }

    [Fact]
    public async Task Upsert_WritesTheMongooseFieldNames()
    {
        var registry = await CreateMongoRegistryAsync(fixture.Uri);
        var registration = Registrations.New();

        await registry.UpsertAsync(registration, Ct);

        var raw = await Raw(fixture.Uri).Find(new BsonDocument("kfOpenId", registration.KfId)).SingleAsync(Ct);
        Assert.Equal(BsonType.ObjectId, raw["_id"].BsonType);
        Assert.Equal(registration.Endpoint, raw["botEndpoint"].AsString);
        Assert.Equal(registration.KfName, raw["name"].AsString);
        Assert.Equal(registration.CorpId, raw["corpId"].AsString);
        Assert.Equal(registration.CorpSecret, raw["corpSecret"].AsString);
        Assert.Equal(registration.Token, raw["token"].AsString);
        Assert.Equal(registration.EncodingAesKey, raw["encodingAESKey"].AsString);
        Assert.True(raw["online"].AsBoolean);
        Assert.Equal(BsonNull.Value, raw["lastOnlineDate"]);
        Assert.Equal(new BsonDateTime(registration.RegisteredAt!.Value), raw["registeredAt"]);
        // The change marker other replicas read, from the server's clock.
        Assert.InRange(raw["updatedAt"].ToUniversalTime(), DateTime.UtcNow.AddMinutes(-1), DateTime.UtcNow.AddMinutes(1));
    }

    [Fact]
    public async Task ALegacyDocumentWithoutAMarker_IsInTheFullRead_NotInACatchUp_UntilWrittenThroughUs()
    {
        var uri = fixture.NewDatabaseUri();
        var registry = await CreateMongoRegistryAsync(uri);
        var legacy = Registrations.New() with { LastOnlineDate = null, RegisteredAt = null };
        await Raw(uri).InsertOneAsync(MongooseDocument(legacy), cancellationToken: Ct);

        Assert.Contains(legacy, (await registry.ReadChangesAsync(null, Ct)).Loaded);
        Assert.Empty((await registry.ReadChangesAsync(DateTime.UnixEpoch, Ct)).Loaded);

        await registry.MarkOfflineAsync(legacy.KfId, legacy.CorpId, Registrations.TruncatedNow(), Ct);
        Assert.Single((await registry.ReadChangesAsync(DateTime.UnixEpoch, Ct)).Loaded);
    }

    [Fact]
    public async Task Initialize_CreatesTheUniqueKfOpenIdIndex_AndTheCorpIdIndex()
    {
        var uri = fixture.NewDatabaseUri();

        await CreateMongoRegistryAsync(uri);

        var indexes = await IndexesAsync(uri);
        Assert.Equal(new BsonDocument("kfOpenId", 1), indexes["kfOpenId_1"]["key"]);
        Assert.True(indexes["kfOpenId_1"]["unique"].AsBoolean);
        Assert.Equal(new BsonDocument("corpId", 1), indexes["corpId_1"]["key"]);
        Assert.False(indexes["corpId_1"].GetValue("unique", false).AsBoolean);
    }

    [Fact]
    public async Task Initialize_IsIdempotent()
    {
        var uri = fixture.NewDatabaseUri();
        var registry = await CreateMongoRegistryAsync(uri);

        await registry.InitializeAsync(Ct);
        await CreateMongoRegistryAsync(uri);

        Assert.Equal(["_id_", "corpId_1", "kfOpenId_1", "updatedAt_1"], (await IndexesAsync(uri)).Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Initialize_BesideTheIndexMongooseCreated_AddsNoSecondOne()
    {
        var uri = fixture.NewDatabaseUri();
        // The index mongoose builds for `@Prop({ unique: true }) kfOpenId`; older versions add background: true.
        var mongooseIndex = new BsonDocument
        {
            { "key", new BsonDocument("kfOpenId", 1) },
            { "name", "kfOpenId_1" },
            { "unique", true },
            { "background", true },
        };
        await fixture.DatabaseFor(uri).RunCommandAsync<BsonDocument>(
            new BsonDocument { { "createIndexes", MongoPuppetRegistry.CollectionName }, { "indexes", new BsonArray { mongooseIndex } } },
            cancellationToken: Ct);

        await CreateMongoRegistryAsync(uri);

        Assert.Equal(["_id_", "corpId_1", "kfOpenId_1", "updatedAt_1"], (await IndexesAsync(uri)).Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Insert_OfADuplicateKfOpenId_IsRejectedByTheUniqueIndex()
    {
        var registry = await CreateMongoRegistryAsync(fixture.Uri);
        var registration = Registrations.New();
        await registry.UpsertAsync(registration, Ct);

        var duplicate = MongooseDocument(registration);

        var exception = await Assert.ThrowsAsync<MongoWriteException>(
            () => Raw(fixture.Uri).InsertOneAsync(duplicate, cancellationToken: Ct));
        Assert.Equal(ServerErrorCategory.DuplicateKey, exception.WriteError.Category);
    }

    public void Dispose()
    {
        foreach (var registry in _registries)
        {
            registry.Dispose();
        }
    }

    private async Task<MongoPuppetRegistry> CreateMongoRegistryAsync(string uri)
    {
        fixture.SkipIfUnavailable();
        var registry = new MongoPuppetRegistry(
            Options.Create(new StorageOptions { MongoUri = uri }),
            NullLogger<MongoPuppetRegistry>.Instance);
        _registries.Add(registry);
        await registry.InitializeAsync(Ct);
        return registry;
    }

    private IMongoCollection<BsonDocument> Raw(string uri) =>
        fixture.DatabaseFor(uri).GetCollection<BsonDocument>(MongoPuppetRegistry.CollectionName);

    private async Task<Dictionary<string, BsonDocument>> IndexesAsync(string uri)
    {
        var cursor = await Raw(uri).Indexes.ListAsync(Ct);
        return (await cursor.ToListAsync(Ct)).ToDictionary(i => i["name"].AsString);
    }

    /// <summary>A document as the original service's mongoose model saved it: no registeredAt, a version key.</summary>
    private static BsonDocument MongooseDocument(PuppetRegistration registration)
    {
        var document = new BsonDocument
        {
            { "_id", ObjectId.GenerateNewId() },
            { "botEndpoint", registration.Endpoint },
            { "name", registration.KfName },
            { "kfOpenId", registration.KfId },
            { "corpId", registration.CorpId },
            { "corpSecret", registration.CorpSecret },
            { "token", registration.Token },
            { "encodingAESKey", registration.EncodingAesKey },
            { "online", registration.Online },
        };
        if (registration.LastOnlineDate is { } lastOnline)
        {
            document.Add("lastOnlineDate", lastOnline);
        }
        document.Add("__v", 0);
        return document;
    }
}
