using WxkfManager.Settings;

namespace WxkfManager.Delivery;

/// <summary>What is checked between claiming an event and sending it: a pure function, so tests call it directly.</summary>
public static class DeliveryGate
{
    /// <summary>Why the claimed event must not be sent but dead-lettered, or null to send it.</summary>
    public static string? DeadReason(DeliveryRecord record, DateTime now, DeliveryOptions options)
    {
        if (record.Claims > options.PoisonClaimLimit)
        {
            return $"poison: claimed {record.Claims - 1} times without an attempt being recorded (its worker crashed or outlived its lease each time)";
        }
        if (now >= record.ExpiresAt && record.Attempts > 0)
        {
            // The same words as when a failed attempt's next one would fall past the limit: which of the two
            // notices first depends only on timing.
            return RetryPolicy.GaveUp(record, record.Attempts, now, record.LastError);
        }
        if (now >= record.ExpiresAt)
        {
            return $"expired before delivery: {(now - record.ReceivedAt).TotalSeconds:F0} s after receipt, past the age limit of {options.MaxAge.TotalSeconds:F0} s"
                + (record.LastError is { } error ? $"; last error: {error}" : "");
        }
        return null;
    }

    /// <summary>
    /// The longest one attempt can hold its lease: one try (the queue decides about the next), connecting
    /// included, until the attempt timeout.
    /// </summary>
    public static TimeSpan WorstCaseAttempt(DeliveryOptions options) => options.AttemptTimeout;
}
