using Microsoft.Extensions.Options;
using MongoDB.Driver;
using WxkfManager.Options;

namespace WxkfManager.Registry;

/// <summary>Opens a store's collection from MONGO_URI: the database the URI names, or "wxkf-manager".</summary>
internal static class MongoConnection
{
    public static (MongoClient Client, IMongoCollection<TDocument> Collection) Open<TDocument>(IOptions<StorageOptions> options, string collectionName)
    {
        var uri = options.Value.MongoUri;
        if (string.IsNullOrWhiteSpace(uri))
        {
            throw new InvalidOperationException("The MongoDB store needs a connection string (MONGO_URI).");
        }
        var url = MongoUrl.Create(uri);
        var client = new MongoClient(url);
        var collection = client.GetDatabase(url.DatabaseName ?? StorageOptions.DefaultMongoDatabase).GetCollection<TDocument>(collectionName);
        return (client, collection);
    }
}
