using System.ComponentModel.DataAnnotations;

namespace WxkfManager.Settings;

public sealed class StorageOptions
{
    public const string Section = "Storage";

    /// <summary>
    /// The database when MONGO_URI names none: the one the original service (mongoose) used, so the same
    /// URI finds the same registrations.
    /// </summary>
    public const string DefaultMongoDatabase = "test";

    /// <summary>MongoDB connection string (env MONGO_URI). Empty selects the embedded SQLite store.</summary>
    public string? MongoUri { get; set; }

    /// <summary>Where the embedded SQLite store keeps its file (env DATA_DIR).</summary>
    [Required]
    public string DataDirectory { get; set; } = "./data";

    /// <summary>
    /// How often each replica applies registry changes made through other replicas (an indexed read of
    /// what changed since its last look): how long a replica may lag behind another.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan RegistryChangePollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How often each replica reloads the whole registry, a safety net for writes without a change marker:
    /// documents the original service wrote while sharing the database, or edited or deleted by hand.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan RegistryRefreshInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// How long a MongoDB operation waits for a reachable server before failing, unless MONGO_URI sets
    /// serverSelectionTimeoutMS: short, so a callback gets a fast 503 (WeCom gives up after 5 s) instead of
    /// the driver's 30 s.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:01:00")]
    public TimeSpan MongoServerSelectionTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How long a SQLite write waits for another writer (another process holding the file, a backup) before it
    /// fails. Short, so a callback is refused with 503 well inside WeCom's 5-second deadline and resent later.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:01:00")]
    public TimeSpan BusyTimeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// SQLite's synchronous mode (WAL journal). Normal: a committed write survives the process being killed,
    /// but a power cut or OS crash can lose the last committed group. Full: fsync on every commit, survives
    /// both, at the cost of a disk flush per group.
    /// </summary>
    public SqliteSynchronousMode SqliteSynchronous { get; set; } = SqliteSynchronousMode.Normal;

    public bool UsesMongo => !string.IsNullOrWhiteSpace(MongoUri);
}

public enum SqliteSynchronousMode
{
    Normal,
    Full,
}
