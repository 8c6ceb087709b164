namespace WxkfManager.Delivery;

/// <summary>When a failed delivery is tried again: exponential in the attempts made, with ±25% jitter so puppets coming back are not stampeded.</summary>
public static class RetrySchedule
{
    public static TimeSpan DelayAfter(int failedAttempts, TimeSpan baseDelay, TimeSpan maxDelay, double jitterSample)
    {
        var exponential = baseDelay.TotalMilliseconds * Math.Pow(2, Math.Clamp(failedAttempts, 0, 30));
        var jittered = Math.Min(exponential, maxDelay.TotalMilliseconds) * (0.75 + 0.5 * jitterSample);
        return TimeSpan.FromMilliseconds(Math.Min(jittered, maxDelay.TotalMilliseconds));
    }
}
