using Microsoft.Extensions.Options;
using Microsoft.Extensions.Logging.Abstractions;
using WxkfManager.Delivery;
using WxkfManager.Settings;
using WxkfManager.Registry;
using WxkfManager.Tokens;
using WxkfManager.Storage.Mongo;

namespace WxkfManager.Tests.Registry;

/// <summary>
/// Where each MongoDB store keeps its documents, checked without a server: the collections the original
/// service's mongoose models named, all in the database MONGO_URI names, else mongoose's default "test".
/// </summary>
public sealed class MongoStoreLocationTests
{
    private static (IDisposable Store, string Database, string Collection) Open(string store, string? uri)
    {
        var options = Options.Create(new StorageOptions { MongoUri = uri });
        switch (store)
        {
            case "registry":
                var registry = new MongoPuppetRegistry(options, NullLogger<MongoPuppetRegistry>.Instance);
                return (registry, registry.Collection.Database.DatabaseNamespace.DatabaseName, registry.Collection.CollectionNamespace.CollectionName);
            case "deliveries":
                var deliveries = new MongoDeliveryStore(options, NullLogger<MongoDeliveryStore>.Instance);
                return (deliveries, deliveries.Collection.Database.DatabaseNamespace.DatabaseName, deliveries.Collection.CollectionNamespace.CollectionName);
            default:
                var tokens = new MongoTokenStore(options, NullLogger<MongoTokenStore>.Instance);
                return (tokens, tokens.Collection.Database.DatabaseNamespace.DatabaseName, tokens.Collection.CollectionNamespace.CollectionName);
        }
    }

    public static TheoryData<string, string, string> StoresAndUris()
    {
        var data = new TheoryData<string, string, string>();
        foreach (var store in new[] { "registry", "deliveries", "tokens" })
        {
            data.Add(store, "mongodb://127.0.0.1:27017/wxkf-prod", "wxkf-prod");
            data.Add(store, "mongodb://user:pass@127.0.0.1:27017/tenant?authSource=admin", "tenant");
            data.Add(store, "mongodb://127.0.0.1:27017", "test");
            data.Add(store, "mongodb://127.0.0.1:27017/", "test");
            data.Add(store, "mongodb://127.0.0.1:27017/?replicaSet=rs0", "test");
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(StoresAndUris))]
    public void Database_ComesFromTheUri_ElseTheOriginalsDefault(string store, string uri, string database)
    {
        var (opened, actual, _) = Open(store, uri);
        using (opened)
        {
            Assert.Equal(database, actual);
        }
    }

    [Theory]
    [InlineData("registry", "wxkfpuppets")]
    [InlineData("deliveries", "wxkfdeliveries")]
    [InlineData("tokens", "wxkfaccesstokens")]
    public void Collection_IsNamedAsTheOriginalsModelsName_IntoTheOneDatabase(string store, string collection)
    {
        var (opened, database, actual) = Open(store, "mongodb://127.0.0.1:27017/wxkf-prod");
        using (opened)
        {
            Assert.Equal(collection, actual);
            Assert.Equal("wxkf-prod", database);
        }
        Assert.Equal("wxkfpuppets", MongoPuppetRegistry.CollectionName);
        Assert.Equal("wxkfaccesstokens", MongoTokenStore.CollectionName);
    }

    [Theory]
    [InlineData("registry", null)]
    [InlineData("registry", " ")]
    [InlineData("deliveries", null)]
    [InlineData("deliveries", " ")]
    [InlineData("tokens", null)]
    [InlineData("tokens", " ")]
    public void MissingUri_IsRejected(string store, string? uri)
    {
        Assert.Throws<InvalidOperationException>(() => Open(store, uri));
    }
}
