using System.Text.Json;
using WxkfManager.Registry;

namespace WxkfManager.Storage.Sqlite;

/// <summary>The instances of a registration as the SQLite store keeps them: a small JSON array in one column.</summary>
public static class InstancesJson
{
    private static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web);

    public static string Format(IReadOnlyList<PuppetInstance> instances) => JsonSerializer.Serialize(instances, Options);

    /// <summary>Unreadable text counts as no instances: the registration still loads, and a deregister then simply takes it offline.</summary>
    public static IReadOnlyList<PuppetInstance> Parse(string json)
    {
        try
        {
            return JsonSerializer.Deserialize<PuppetInstance[]>(json, Options) is { Length: > 0 } instances
                && instances.All(i => i is { Address: not null, Endpoint: not null })
                ? instances
                : [];
        }
        catch (JsonException)
        {
            return [];
        }
    }
}
