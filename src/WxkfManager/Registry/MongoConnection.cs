using Microsoft.Extensions.Options;
using MongoDB.Driver;
using WxkfManager.Options;

namespace WxkfManager.Registry;

/// <summary>Opens a store's collection from MONGO_URI: the database the URI names, or mongoose's default "test".</summary>
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
        var client = new MongoClient(SettingsFor(url, options.Value.MongoServerSelectionTimeout));
        var collection = client.GetDatabase(DatabaseNameFor(url)).GetCollection<TDocument>(collectionName);
        return (client, collection);
    }

    /// <summary>What the original's mongoose connected to for the same URI: the path's database, else "test".</summary>
    public static string DatabaseNameFor(MongoUrl url) =>
        string.IsNullOrEmpty(url.DatabaseName) ? StorageOptions.DefaultMongoDatabase : url.DatabaseName;

    /// <summary>The URI's settings, with a short server-selection timeout unless the URI chose one.</summary>
    public static MongoClientSettings SettingsFor(MongoUrl url, TimeSpan serverSelectionTimeout)
    {
        var settings = MongoClientSettings.FromUrl(url);
        // The driver's default means the URI did not choose one.
        if (url.ServerSelectionTimeout == MongoDefaults.ServerSelectionTimeout)
        {
            settings.ServerSelectionTimeout = serverSelectionTimeout;
        }
        return settings;
    }
}
