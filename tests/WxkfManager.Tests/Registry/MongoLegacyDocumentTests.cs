using Microsoft.Extensions.Options;
using Microsoft.Extensions.Logging.Abstractions;
using MongoDB.Bson;
using MongoDB.Bson.Serialization;
using MongoDB.Driver;
using WxkfManager.Settings;
using WxkfManager.Registry;
using WxkfManager.Storage.Mongo;

namespace WxkfManager.Tests.Registry;

/// <summary>
/// Documents as the original service left them (it stored whatever it was sent, nulls included), read
/// without a server: each becomes a registration or a fault naming kfOpenId and the field, never a throw.
/// </summary>
public sealed class MongoLegacyDocumentTests
{
    private static readonly DateTime At = new(2024, 5, 6, 7, 8, 9, 123, DateTimeKind.Utc);

    private static BsonDocument Mongoose(string kfId = "wk1") => MongooseDocuments.Puppet(kfId, Crypto.EncodingAesKey.Generate());

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
    public async Task ReadingChangesSinceAMarker_ReadsTheDocumentsWhoseUpdatedAtIsThatOrLater_ThoseWithoutNone()
    {
        var (collection, stored) = InMemoryPuppetCollection.Create();
        using var registry = new MongoPuppetRegistry(collection, NullLogger<MongoPuppetRegistry>.Instance);
        foreach (var (kfId, marker) in new (string, DateTime?)[] { ("wk-before", At.AddSeconds(-1)), ("wk-at", At), ("wk-after", At.AddSeconds(1)), ("wk-legacy", null) })
        {
            var raw = Mongoose(kfId);
            if (marker is { } updatedAt)
            {
                raw["updatedAt"] = new BsonDateTime(updatedAt);
            }
            stored.Documents.Add(raw);
        }

        var changes = await registry.ReadChangesAsync(At, Ct);
        var full = await registry.ReadChangesAsync(null, Ct);

        Assert.Equal(new[] { "wk-after", "wk-at" }, changes.Loaded.Select(r => r.KfId));
        Assert.Equal(At.AddSeconds(1), changes.Marker);
        Assert.False(changes.Complete);
        Assert.Equal(new[] { "wk-after", "wk-at", "wk-before", "wk-legacy" }, full.Loaded.Select(r => r.KfId));
        Assert.True(full.Complete);
    }

    [Fact]
    public void ServerSelection_IsShort_UnlessTheUriChoosesIt()
    {
        using var registry = new MongoPuppetRegistry(
            Options.Create(new StorageOptions { MongoUri = "mongodb://127.0.0.1:27017" }),
            NullLogger<MongoPuppetRegistry>.Instance);
        var chosen = MongoConnection.SettingsFor(MongoUrl.Create("mongodb://127.0.0.1:27017/?serverSelectionTimeoutMS=7000"), TimeSpan.FromSeconds(2));

        Assert.Equal(TimeSpan.FromSeconds(2), registry.Collection.Database.Client.Settings.ServerSelectionTimeout);
        Assert.Equal(TimeSpan.FromSeconds(7), chosen.ServerSelectionTimeout);
    }
}
