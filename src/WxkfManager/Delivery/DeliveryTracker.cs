using System.Collections.Concurrent;
using System.Text.Json.Serialization;

namespace WxkfManager.Delivery;

/// <summary>How deliveries to one puppet are going, as this replica has seen them.</summary>
public sealed record PuppetDeliveryState(
    [property: JsonPropertyName("lastSuccessAt")] DateTime? LastSuccessAt,
    [property: JsonPropertyName("lastErrorAt")] DateTime? LastErrorAt,
    [property: JsonPropertyName("lastError")] string? LastError,
    [property: JsonPropertyName("consecutiveFailures")] int ConsecutiveFailures,
    [property: JsonPropertyName("circuit")] string Circuit)
{
    public static readonly PuppetDeliveryState None = new(null, null, null, 0, CircuitStates.Closed);
}

public static class CircuitStates
{
    public const string Closed = "closed";
    public const string Open = "open";
    public const string HalfOpen = "half-open";
}

/// <summary>Per-puppet delivery outcomes and per-endpoint circuit states, for operators and puppetWxkfInfo.</summary>
public sealed class DeliveryTracker
{
    private readonly ConcurrentDictionary<string, PuppetDeliveryState> _byKfId = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _circuitByAuthority = new(StringComparer.OrdinalIgnoreCase);

    public void Succeeded(string kfId, DateTime at) =>
        _byKfId.AddOrUpdate(kfId,
            _ => PuppetDeliveryState.None with { LastSuccessAt = at },
            (_, state) => state with { LastSuccessAt = at, ConsecutiveFailures = 0 });

    public void Failed(string kfId, DateTime at, string error) =>
        _byKfId.AddOrUpdate(kfId,
            _ => PuppetDeliveryState.None with { LastErrorAt = at, LastError = error, ConsecutiveFailures = 1 },
            (_, state) => state with { LastErrorAt = at, LastError = error, ConsecutiveFailures = state.ConsecutiveFailures + 1 });

    public void CircuitChanged(string authority, string state) => _circuitByAuthority[authority] = state;

    public PuppetDeliveryState For(string kfId, string endpoint)
    {
        var state = _byKfId.GetValueOrDefault(kfId) ?? PuppetDeliveryState.None;
        var authority = Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) ? uri.Authority : endpoint;
        return state with { Circuit = _circuitByAuthority.GetValueOrDefault(authority) ?? CircuitStates.Closed };
    }
}
