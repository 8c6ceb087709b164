using Microsoft.Extensions.Options;
using MongoDB.Driver;
using WxkfManager.Options;

namespace WxkfManager.Registry;

/// <summary>Opens a store's collection from MONGO_URI: the database the URI names, or "wxkf-manager".</summary>
internal static class MongoConnection
{
    public static readonly TimeSpan ServerSelectionTimeout = TimeSpan.FromSeconds(2);

    public static (MongoClient Client, IMongoCollection<TDocument> Collection) Open<TDocument>(IOptions<StorageOptions> options, string collectionName)
    {
        var uri = options.Value.MongoUri;
        if (string.IsNullOrWhiteSpace(uri))
        {
            throw new InvalidOperationException("The MongoDB store needs a connection string (MONGO_URI).");
        }
        var url = MongoUrl.Create(uri);
        var settings = MongoClientSettings.FromUrl(url);
        // The driver waits 30 s for a server by default: far past WeCom's 5-second deadline for a callback.
        // A short wait answers 503 in time (WeCom resends); a URI that sets its own timeouts keeps them.
        if (!uri.Contains("serverSelectionTimeoutMS", StringComparison.OrdinalIgnoreCase))
        {
            settings.ServerSelectionTimeout = ServerSelectionTimeout;
        }
        if (!uri.Contains("connectTimeoutMS", StringComparison.OrdinalIgnoreCase))
        {
            settings.ConnectTimeout = ServerSelectionTimeout;
        }
        var client = new MongoClient(settings);
        var collection = client.GetDatabase(url.DatabaseName ?? StorageOptions.DefaultMongoDatabase).GetCollection<TDocument>(collectionName);
        return (client, collection);
    }
}
