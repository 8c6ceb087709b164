using System.ComponentModel.DataAnnotations;

namespace WxkfManager.Options;

public sealed class DeliveryOptions
{
    public const string Section = "Delivery";

    /// <summary>How long one POST to a puppet may take before it counts as failed.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:05:00")]
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Retries after the first attempt, on connection errors, timeouts and 5xx.</summary>
    [Range(1, 10)]
    public int MaxRetries { get; set; } = 3;

    /// <summary>The first retry's delay; later ones grow exponentially, with jitter.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:01:00")]
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Callbacks waiting for delivery; when full, WeCom gets a 503 and resends later.</summary>
    [Range(1, 1_000_000)]
    public int QueueCapacity { get; set; } = 10_000;

    /// <summary>Deliveries in flight at once, so one slow puppet does not hold up the others.</summary>
    [Range(1, 1024)]
    public int Concurrency { get; set; } = 32;
}
