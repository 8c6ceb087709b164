using Microsoft.Extensions.Logging.Abstractions;
using MongoDB.Bson;
using MongoDB.Bson.Serialization;
using MongoDB.Driver;
using WxkfManager.Options;
using WxkfManager.Registry;

namespace WxkfManager.Tests.Registry;

/// <summary>
/// Documents as the original service left them (it stored whatever it was sent, nulls included), read
/// without a server: each becomes a registration or a fault naming kfOpenId and the field, never a throw.
/// </summary>
public sealed class MongoLegacyDocumentTests
{
    private static readonly RenderArgs<PuppetDocument> Args =
        new(BsonSerializer.LookupSerializer<PuppetDocument>(), BsonSerializer.SerializerRegistry);

    private static readonly DateTime At = new(2024, 5, 6, 7, 8, 9, 123, DateTimeKind.Utc);

    private static BsonDocument Mongoose() => new()
    {
        { "_id", ObjectId.GenerateNewId() },
        { "botEndpoint", "http://10.0.0.5:8080" },
        { "name", "Support" },
        { "kfOpenId", "wk1" },
        { "corpId", "ww1" },
        { "corpSecret", "secret" },
        { "token", "token" },
        { "encodingAESKey", Crypto.EncodingAesKey.Generate() },
        { "online", true },
        { "__v", 0 },
    };

    [Fact]
    public void AGoodMongooseDocument_Loads()
    {
        var (registration, fault) = PuppetDocument.Read(Mongoose());

        Assert.Null(fault);
        Assert.Equal("wk1", registration!.KfId);
    }

    [Theory]
    [InlineData("botEndpoint")]
    [InlineData("corpId")]
    [InlineData("corpSecret")]
    [InlineData("token")]
    [InlineData("encodingAESKey")]
    public void ANullStringField_IsAFaultNamingIt(string field)
    {
        var raw = Mongoose();
        raw[field] = BsonNull.Value;

        var (registration, fault) = PuppetDocument.Read(raw);

        Assert.Null(registration);
        Assert.Equal(new UnloadableRegistration("wk1", field, "is missing or empty"), fault);
    }

    [Fact]
    public void AMissingField_IsAFault_AndAMissingKfOpenIdIsListedUnderNone()
    {
        var raw = Mongoose();
        raw.Remove("token");
        var noKfId = Mongoose();
        noKfId["kfOpenId"] = BsonNull.Value;

        Assert.Equal("token", PuppetDocument.Read(raw).Unloadable!.Field);
        Assert.Equal(new UnloadableRegistration(UnloadableRegistration.UnknownKfId, "kfOpenId", "is missing or empty"), PuppetDocument.Read(noKfId).Unloadable);
    }

    [Fact]
    public void ANullName_Loads_AsEmpty()
    {
        var raw = Mongoose();
        raw["name"] = BsonNull.Value;

        Assert.Equal("", PuppetDocument.Read(raw).Registration!.KfName);
    }

    [Fact]
    public void AValueOfTheWrongType_IsAFaultNamingTheField_NotTheValue()
    {
        var raw = Mongoose();
        raw["online"] = "yes-secret-looking-value";

        var (registration, fault) = PuppetDocument.Read(raw);

        Assert.Null(registration);
        Assert.Equal("wk1", fault!.KfId);
        Assert.Equal("online", fault.Field);
        Assert.DoesNotContain("secret-looking", fault.Reason);
    }

    [Fact]
    public void TheChangeMarker_IsReadEvenFromAnUnloadableDocument()
    {
        var raw = Mongoose();
        raw["token"] = BsonNull.Value;
        raw["updatedAt"] = new BsonDateTime(At);

        Assert.Equal(At, PuppetDocument.MarkerOf(raw));
        Assert.Null(PuppetDocument.MarkerOf(Mongoose()));
    }

    [Fact]
    public void ChangedSince_RendersAnIndexedRangeOnUpdatedAt()
    {
        Assert.Equal(
            """{ "updatedAt" : { "$gte" : { "$date" : "2024-05-06T07:08:09.123Z" } } }""",
            MongoPuppetRegistry.Filters.ChangedSince(At).Render(Args).ToJson());
    }

    [Fact]
    public void ServerSelection_IsShort_UnlessTheUriChoosesIt()
    {
        using var registry = new MongoPuppetRegistry(
            Microsoft.Extensions.Options.Options.Create(new StorageOptions { MongoUri = "mongodb://127.0.0.1:27017" }),
            NullLogger<MongoPuppetRegistry>.Instance);
        var chosen = MongoConnection.SettingsFor(MongoUrl.Create("mongodb://127.0.0.1:27017/?serverSelectionTimeoutMS=7000"), TimeSpan.FromSeconds(2));

        Assert.Equal(TimeSpan.FromSeconds(2), registry.Collection.Database.Client.Settings.ServerSelectionTimeout);
        Assert.Equal(TimeSpan.FromSeconds(7), chosen.ServerSelectionTimeout);
    }
}
