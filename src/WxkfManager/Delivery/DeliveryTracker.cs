using System.Collections.Concurrent;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Options;
using WxkfManager.Settings;

namespace WxkfManager.Delivery;

/// <summary>How deliveries to one puppet are going, as this replica has seen them.</summary>
public sealed record PuppetDeliveryState(
    [property: JsonPropertyName("reachable")] bool Reachable,
    [property: JsonPropertyName("unreachableSince")] DateTime? UnreachableSince,
    [property: JsonPropertyName("nextAttemptAt")] DateTime? NextAttemptAt,
    [property: JsonPropertyName("waiting")] int Waiting,
    [property: JsonPropertyName("lastSuccessAt")] DateTime? LastSuccessAt,
    [property: JsonPropertyName("lastErrorAt")] DateTime? LastErrorAt,
    [property: JsonPropertyName("lastError")] string? LastError,
    [property: JsonPropertyName("consecutiveFailures")] int ConsecutiveFailures,
    [property: JsonPropertyName("circuit")] string Circuit)
{
    public static PuppetDeliveryState From(PuppetHealth health, int waiting) => new(
        !health.IsUnreachable, health.UnreachableSince, health.NextProbeAt, waiting,
        health.LastSuccessAt, health.LastErrorAt, health.LastError, health.ConsecutiveFailures,
        !health.IsUnreachable ? CircuitStates.Closed : health.ProbeInFlight ? CircuitStates.HalfOpen : CircuitStates.Open);
}

/// <summary>The states the original circuit field reports: closed (reachable), open (waiting for the probe), half-open (probing).</summary>
public static class CircuitStates
{
    public const string Closed = "closed";
    public const string Open = "open";
    public const string HalfOpen = "half-open";
}

/// <summary>
/// Each puppet's <see cref="PuppetHealth"/> on this replica: which puppets are unreachable, whose events
/// therefore wait, and when each may be probed. One entry per puppet that has had a delivery.
/// </summary>
public sealed class DeliveryTracker(IOptions<DeliveryOptions> options)
{
    private readonly ConcurrentDictionary<string, PuppetHealth> _byKfId = new(StringComparer.Ordinal);

    // The few puppets that are unreachable or held, so the worker's every look scans those, not the fleet.
    private readonly ConcurrentDictionary<string, byte> _waiting = new(StringComparer.Ordinal);
    private readonly DeliveryOptions _options = options.Value;

    /// <summary>Puppets with a health entry on this replica.</summary>
    internal int Remembered => _byKfId.Count;

    public PuppetHealth HealthOf(string kfId) => _byKfId.GetValueOrDefault(kfId) ?? PuppetHealth.Unknown;

    public PuppetDeliveryState For(string kfId, int waiting = 0) => PuppetDeliveryState.From(HealthOf(kfId), waiting);

    /// <summary>
    /// Puppets whose events must not be claimed for ordinary delivery: unreachable ones (only their probe goes out)
    /// and ones that have just registered.
    /// </summary>
    public IReadOnlyCollection<string> Waiting(DateTime now)
    {
        var waiting = new List<string>();
        foreach (var kfId in _waiting.Keys)
        {
            if (HealthOf(kfId).IsWaiting(now))
            {
                waiting.Add(kfId);
            }
            else if (!HealthOf(kfId).IsUnreachable)
            {
                // A hold that ran out: drop it from the index (re-added should the puppet stop answering).
                _waiting.TryRemove(kfId, out _);
                Index(kfId, now);
                ForgetIfNothingToRemember(kfId);
            }
        }
        return waiting;
    }

    /// <summary>Puppets that stopped answering on this replica (a hold after registering aside).</summary>
    public IReadOnlyList<string> Unreachable() =>
        _waiting.Keys.Where(kfId => HealthOf(kfId).IsUnreachable).ToArray();

    public IReadOnlyList<string> ProbesDue(DateTime now) =>
        _waiting.Keys.Where(kfId => HealthOf(kfId).ProbeDue(now)).ToArray();

    /// <summary>The earliest end of a hold still ahead: the held puppet's stored events are due then.</summary>
    public DateTime? NextHoldEndAt(DateTime now) =>
        _waiting.Keys.Select(HealthOf).Select(h => h.HoldUntil > now ? h.HoldUntil : null).Min();

    /// <summary>
    /// The earliest probe or end of a hold, so the worker can wake for it; probes only when
    /// <paramref name="probesCanStart"/> (while the probe slots are full, the end of a probe wakes it instead).
    /// </summary>
    public DateTime? NextWakeAt(DateTime now, bool probesCanStart = true) =>
        _waiting.Keys.Select(HealthOf)
            .Select(h => probesCanStart && h.IsUnreachable && !h.ProbeInFlight ? h.NextProbeAt : h.HoldUntil > now ? h.HoldUntil : null)
            .Min();

    public bool TryBeginProbe(string kfId, DateTime now)
    {
        while (_byKfId.TryGetValue(kfId, out var health) && health.ProbeDue(now))
        {
            if (_byKfId.TryUpdate(kfId, health with { ProbeInFlight = true }, health))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>A probe that found nothing to deliver, or was cut short: try again a first-probe interval later.</summary>
    public void EndProbe(string kfId, DateTime now) =>
        Update(kfId, h => h.ProbeInFlight ? h with { ProbeInFlight = false, NextProbeAt = now + _options.ProbeFirstInterval } : h);

    /// <summary>Returns the health before: unreachable then means the puppet is back and its waiting events may go.</summary>
    public PuppetHealth Succeeded(string kfId, DateTime now) => Update(kfId, h => h.Succeeded(now)).Before;

    public PuppetHealth Failed(string kfId, DateTime now, DeliveryResult failure) =>
        Update(kfId, h => failure.Kind == FailureKind.Unreachable
            ? h.Unreachable(now, failure.Error!, _options.ProbeFirstInterval, _options.ProbeMaxInterval)
            : h.Rejected(now, failure.Error!)).After;

    /// <summary>An operator replayed the puppet's events: start afresh.</summary>
    public void Reset(string kfId)
    {
        _byKfId.TryRemove(kfId, out _);
        _waiting.TryRemove(kfId, out _);
    }

    /// <summary>
    /// The puppet registered (again): earlier failures are forgotten, and its events wait <paramref name="settle"/>,
    /// since a puppet registers before it has finished starting (wechaty-puppet-wxkf opens its cache after).
    /// </summary>
    public void Registered(string kfId, DateTime now, TimeSpan settle)
    {
        _byKfId[kfId] = PuppetHealth.Unknown with { HoldUntil = settle > TimeSpan.Zero ? now + settle : null };
        Index(kfId, now);
    }

    public void ResetAll()
    {
        _byKfId.Clear();
        _waiting.Clear();
    }

    /// <summary>
    /// A puppet whose hold ran out before any delivery has nothing to remember: its entry goes, so a fleet that registers
    /// and stays quiet costs no health entries (<see cref="HealthOf"/> answers Unknown for it, as before).
    /// </summary>
    private void ForgetIfNothingToRemember(string kfId)
    {
        if (_byKfId.TryGetValue(kfId, out var health) && health with { HoldUntil = null } == PuppetHealth.Unknown)
        {
            // Only that very entry: one that changed meanwhile (a delivery began) stays.
            _byKfId.TryRemove(new KeyValuePair<string, PuppetHealth>(kfId, health));
        }
    }

    /// <summary>Keeps the puppet in the waiting index exactly while its health says it waits.</summary>
    private void Index(string kfId, DateTime now)
    {
        if (HealthOf(kfId).IsWaiting(now))
        {
            _waiting.TryAdd(kfId, 0);
        }
        else
        {
            _waiting.TryRemove(kfId, out _);
            // A change that raced the removal: put it back.
            if (HealthOf(kfId).IsWaiting(now))
            {
                _waiting.TryAdd(kfId, 0);
            }
        }
    }

    private (PuppetHealth Before, PuppetHealth After) Update(string kfId, Func<PuppetHealth, PuppetHealth> change)
    {
        while (true)
        {
            var before = HealthOf(kfId);
            var after = change(before);
            var stored = _byKfId.TryGetValue(kfId, out var current)
                ? ReferenceEquals(current, before) && _byKfId.TryUpdate(kfId, after, current)
                : _byKfId.TryAdd(kfId, after);
            if (stored)
            {
                Index(kfId, DateTime.MinValue);
                return (before, after);
            }
        }
    }
}
