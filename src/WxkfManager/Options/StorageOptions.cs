using System.ComponentModel.DataAnnotations;

namespace WxkfManager.Options;

public sealed class StorageOptions
{
    public const string Section = "Storage";
    public const string DefaultMongoDatabase = "wxkf-manager";

    /// <summary>MongoDB connection string (env MONGO_URI). Empty selects the embedded SQLite store.</summary>
    public string? MongoUri { get; set; }

    /// <summary>Where the embedded SQLite store keeps its file (env DATA_DIR).</summary>
    [Required]
    public string DataDirectory { get; set; } = "./data";

    /// <summary>
    /// How often each replica reloads the registry into memory. Writes on this replica apply at once and a
    /// callback for an unknown puppet triggers an immediate reload, so this only bounds how long a
    /// deregistration or endpoint change made through another replica goes unseen.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan RegistryRefreshInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long a SQLite write waits for another writer (another process holding the file, a backup) before it
    /// fails. Short, so a callback is refused with 503 well inside WeCom's 5-second deadline and resent later.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:01:00")]
    public TimeSpan BusyTimeout { get; set; } = TimeSpan.FromSeconds(1);

    public bool UsesMongo => !string.IsNullOrWhiteSpace(MongoUri);
}
