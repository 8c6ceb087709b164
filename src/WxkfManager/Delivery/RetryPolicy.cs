using WxkfManager.Settings;

namespace WxkfManager.Delivery;

/// <summary>What follows a failed delivery attempt.</summary>
public abstract record NextStep
{
    public sealed record RetryAt(DateTime At) : NextStep;

    public sealed record GiveUp(string Reason) : NextStep;
}

/// <summary>
/// The one place that decides what happens after a failed attempt, from the record, the failure, the
/// puppet's health after it and the time. An unreachable puppet's event waits for the puppet's next probe;
/// an event the puppet refused backs off on its own. Either way nothing is tried past the age limit.
/// </summary>
public static class RetryPolicy
{
    public static NextStep AfterFailure(
        DeliveryRecord record, int attempts, DeliveryResult failure, PuppetHealth health, DateTime now, DeliveryOptions options, double jitterSample)
    {
        var next = failure.Kind == FailureKind.Unreachable && health.NextProbeAt is { } probe
            ? probe
            : now + RetrySchedule.DelayAfter(attempts - 1, options.RetryBaseDelay, options.MaxRetryDelay, jitterSample);
        return next > record.ExpiresAt
            ? new NextStep.GiveUp(GaveUp(record, attempts, now, failure.Error))
            : new NextStep.RetryAt(next);
    }

    /// <summary>The dead letter's reason for an event that ran out of time.</summary>
    public static string GaveUp(DeliveryRecord record, int attempts, DateTime now, string? lastError) =>
        $"gave up after {attempts} attempts over {(now - record.ReceivedAt).TotalSeconds:F0} s: {lastError ?? "no attempt was made"}";
}
