using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using MongoDB.Driver;
using WxkfManager.Settings;

namespace WxkfManager.Storage.Mongo;

/// <summary>
/// Opens a store's collection from MONGO_URI: the database the URI names, or mongoose's default "test". The registry,
/// the queue and the token store share one <see cref="MongoClient"/> (one connection pool) per URI and process; it
/// lives as long as the process, so no store disposes it.
/// </summary>
internal static class MongoConnection
{
    private static readonly ConcurrentDictionary<(string Uri, TimeSpan Timeout), Lazy<MongoClient>> Clients = new();

    public static readonly TimeSpan ServerSelectionTimeout = TimeSpan.FromSeconds(2);

    public static IMongoCollection<TDocument> Open<TDocument>(IOptions<StorageOptions> options, string collectionName)
    {
        var uri = options.Value.MongoUri;
        if (string.IsNullOrWhiteSpace(uri))
        {
            throw new InvalidOperationException("The MongoDB store needs a connection string (MONGO_URI).");
        }
        var url = MongoUrl.Create(uri);
        var timeout = options.Value.MongoServerSelectionTimeout;
        var client = Clients.GetOrAdd((uri, timeout), _ => new Lazy<MongoClient>(() => new MongoClient(SettingsFor(url, timeout)))).Value;
        return client.GetDatabase(DatabaseNameFor(url)).GetCollection<TDocument>(collectionName);
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
