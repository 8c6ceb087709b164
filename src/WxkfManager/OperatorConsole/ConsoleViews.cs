using System.Text.Json.Serialization;

namespace WxkfManager.OperatorConsole;

/// <summary>One puppet on the Fleet page. Reachability is what this replica's deliveries have seen.</summary>
public sealed record FleetPuppetView(
    [property: JsonPropertyName("kfId")] string KfId,
    [property: JsonPropertyName("kfName")] string KfName,
    [property: JsonPropertyName("corpId")] string CorpId,
    [property: JsonPropertyName("endpoint")] string Endpoint,
    [property: JsonPropertyName("state")] string State,
    [property: JsonPropertyName("stateSince")] DateTime? StateSince,
    [property: JsonPropertyName("circuit")] string Circuit,
    [property: JsonPropertyName("lastSuccessAt")] DateTime? LastSuccessAt,
    [property: JsonPropertyName("lastErrorAt")] DateTime? LastErrorAt,
    [property: JsonPropertyName("lastError")] string? LastError,
    [property: JsonPropertyName("consecutiveFailures")] int ConsecutiveFailures,
    [property: JsonPropertyName("queued")] int Queued,
    [property: JsonPropertyName("due")] int Due,
    [property: JsonPropertyName("inFlight")] int InFlight);

public static class FleetStates
{
    /// <summary>Registered, and its last delivery (if any) went through.</summary>
    public const string Online = "online";

    /// <summary>Registered, but its latest deliveries failed (down, refusing, or circuit open).</summary>
    public const string Unreachable = "unreachable";

    /// <summary>Deregistered: events for it are dead-lettered.</summary>
    public const string Offline = "offline";

    public static readonly string[] All = [Online, Unreachable, Offline];
}

public sealed record QueueOverview(
    [property: JsonPropertyName("queued")] int Queued,
    [property: JsonPropertyName("due")] int Due,
    [property: JsonPropertyName("inFlight")] int InFlight,
    [property: JsonPropertyName("deadLetters")] int DeadLetters,
    [property: JsonPropertyName("deliveredRetained")] int DeliveredRetained,
    [property: JsonPropertyName("oldestPendingAgeSeconds")] double? OldestPendingAgeSeconds);

public sealed record LiveView(
    [property: JsonPropertyName("intervalSeconds")] double IntervalSeconds,
    [property: JsonPropertyName("points")] IReadOnlyList<LivePoint> Points);

/// <summary>A corp's cached access token: whether there is one and when it expires; never the token or the secret.</summary>
public sealed record CorpTokenView(
    [property: JsonPropertyName("corpId")] string CorpId,
    [property: JsonPropertyName("puppets")] int Puppets,
    [property: JsonPropertyName("cached")] bool Cached,
    [property: JsonPropertyName("tokens")] int Tokens,
    [property: JsonPropertyName("fetchedAt")] DateTime? FetchedAt,
    [property: JsonPropertyName("expiresAt")] DateTime? ExpiresAt,
    [property: JsonPropertyName("expiresInSeconds")] double? ExpiresInSeconds);

public sealed record SessionView(
    [property: JsonPropertyName("keyRequired")] bool KeyRequired,
    [property: JsonPropertyName("warning")] string? Warning);
