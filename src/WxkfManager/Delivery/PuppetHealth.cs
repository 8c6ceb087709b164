namespace WxkfManager.Delivery;

/// <summary>
/// How a puppet has been answering, as this replica saw it. While it is unreachable its events wait and
/// one real delivery, the probe, goes out at <see cref="NextProbeAt"/>; the first success releases the rest.
/// </summary>
public sealed record PuppetHealth(
    DateTime? LastSuccessAt,
    DateTime? LastErrorAt,
    string? LastError,
    int ConsecutiveFailures,
    DateTime? UnreachableSince,
    DateTime? NextProbeAt,
    bool ProbeInFlight)
{
    public static readonly PuppetHealth Unknown = new(null, null, null, 0, null, null, false);

    /// <summary>Until when the puppet's events wait although it is reachable: it has just registered and may not be ready.</summary>
    public DateTime? HoldUntil { get; init; }

    public bool IsWaiting(DateTime now) => IsUnreachable || HoldUntil > now;

    /// <summary>When the current run of failed attempts began (refused or unreachable); null after a success.</summary>
    public DateTime? FailingSince { get; init; }

    /// <summary>When an attempt last succeeded after a run of failures.</summary>
    public DateTime? RecoveredAt { get; init; }

    public bool IsUnreachable => UnreachableSince is not null;

    public bool ProbeDue(DateTime now) => IsUnreachable && !ProbeInFlight && NextProbeAt <= now;

    public PuppetHealth Succeeded(DateTime now) =>
        this with
        {
            LastSuccessAt = now, ConsecutiveFailures = 0, UnreachableSince = null, NextProbeAt = null, ProbeInFlight = false,
            FailingSince = null, RecoveredAt = FailingSince is null ? RecoveredAt : now,
        };

    /// <summary>The puppet answered, but not with success: it is reachable; only this event failed.</summary>
    public PuppetHealth Rejected(DateTime now, string error) =>
        this with
        {
            LastErrorAt = now, LastError = error, ConsecutiveFailures = ConsecutiveFailures + 1,
            UnreachableSince = null, NextProbeAt = null, ProbeInFlight = false, FailingSince = FailingSince ?? now,
        };

    public PuppetHealth Unreachable(DateTime now, string error, TimeSpan firstProbe, TimeSpan maxProbeInterval)
    {
        var since = UnreachableSince ?? now;
        return this with
        {
            LastErrorAt = now, LastError = error, ConsecutiveFailures = ConsecutiveFailures + 1,
            UnreachableSince = since, NextProbeAt = now + ProbeInterval(now - since, firstProbe, maxProbeInterval), ProbeInFlight = false,
            FailingSince = FailingSince ?? now,
        };
    }

    /// <summary>
    /// How long to wait before the next probe: a quarter of the outage so far, at least <paramref name="firstProbe"/>
    /// and at most <paramref name="maxProbeInterval"/>. So a blip costs about a second after it ends, an outage
    /// of length T at most T/4 more, and a puppet that stays down is asked once per the maximum interval.
    /// </summary>
    public static TimeSpan ProbeInterval(TimeSpan unreachableFor, TimeSpan firstProbe, TimeSpan maxProbeInterval)
    {
        var quarter = unreachableFor / 4;
        return quarter < firstProbe ? firstProbe : quarter > maxProbeInterval ? maxProbeInterval : quarter;
    }
}
