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

/// <summary>Per-puppet delivery outcomes and per-puppet-endpoint circuit states, for operators and puppetWxkfInfo.</summary>
public sealed class DeliveryTracker
{
    private readonly ConcurrentDictionary<string, PuppetDeliveryState> _byKfId = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _circuitByEndpoint = new(StringComparer.OrdinalIgnoreCase);

    public static string NormalizeEndpoint(string endpoint) => endpoint.TrimEnd('/');

    public void Succeeded(string kfId, DateTime at)
    {
        if (_failingSince.TryRemove(kfId, out _))
        {
            _recoveredAt[kfId] = at;
        }
        _byKfId.AddOrUpdate(kfId,
            _ => PuppetDeliveryState.None with { LastSuccessAt = at },
            (_, state) => state with { LastSuccessAt = at, ConsecutiveFailures = 0 });
    }

    public void Failed(string kfId, DateTime at, string error)
    {
        _failingSince.TryAdd(kfId, at);
        _byKfId.AddOrUpdate(kfId,
            _ => PuppetDeliveryState.None with { LastErrorAt = at, LastError = error, ConsecutiveFailures = 1 },
            (_, state) => state with { LastErrorAt = at, LastError = error, ConsecutiveFailures = state.ConsecutiveFailures + 1 });
    }

    private readonly ConcurrentDictionary<string, DateTime> _failingSince = new(StringComparer.Ordinal);

    /// <summary>When the puppet's current run of failed deliveries began; null while its last delivery succeeded.</summary>
    public DateTime? FailingSince(string kfId) => _failingSince.TryGetValue(kfId, out var since) ? since : null;

    private readonly ConcurrentDictionary<string, DateTime> _recoveredAt = new(StringComparer.Ordinal);

    /// <summary>When deliveries to the puppet last went through again after a run of failures.</summary>
    public DateTime? RecoveredAt(string kfId) => _recoveredAt.TryGetValue(kfId, out var at) ? at : null;

    private readonly ConcurrentDictionary<string, string> _openedBecause = new(StringComparer.OrdinalIgnoreCase);

    public void CircuitChanged(string endpoint, string state, string? reason = null)
    {
        _circuitByEndpoint[endpoint] = state;
        if (reason is not null)
        {
            _openedBecause[endpoint] = reason;
        }
    }

    /// <summary>The failure that last opened an endpoint's circuit: the real cause behind its fast failures.</summary>
    public string? OpenedBecause(string endpoint) => _openedBecause.GetValueOrDefault(NormalizeEndpoint(endpoint));

    public PuppetDeliveryState For(string kfId, string endpoint)
    {
        var state = _byKfId.GetValueOrDefault(kfId) ?? PuppetDeliveryState.None;
        return state with { Circuit = _circuitByEndpoint.GetValueOrDefault(NormalizeEndpoint(endpoint)) ?? CircuitStates.Closed };
    }
}
