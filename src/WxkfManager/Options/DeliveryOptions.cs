using System.ComponentModel.DataAnnotations;

namespace WxkfManager.Options;

public sealed class DeliveryOptions
{
    public const string Section = "Delivery";

    /// <summary>How long one POST to a puppet may take before it counts as failed.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:05:00")]
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Quick retries within one delivery attempt, on connection errors, timeouts and 5xx.</summary>
    [Range(1, 10)]
    public int MaxRetries { get; set; } = 2;

    /// <summary>The first retry's delay; later ones, and the rescheduled attempts after them, grow exponentially with jitter.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:01:00")]
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>The longest wait between two rescheduled attempts.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long an event is worth delivering: WeCom's sync token for kf_msg_or_event is valid for 10 minutes.
    /// Older events go to the dead letters with their last error.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan MaxAge { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Deliveries in flight at once, so one slow puppet does not hold up the others.</summary>
    [Range(1, 1024)]
    public int Concurrency { get; set; } = 32;

    /// <summary>
    /// How long a worker owns a claimed event; if its replica dies, another takes the event over after this.
    /// Must outlast the worst-case attempt (AttemptTimeout × (MaxRetries + 1) plus the retries' backoff),
    /// checked at start, or a slow attempt's event would be delivered twice.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:30:00")]
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Claims in a row that end without the attempt being recorded (its worker crashed, or outlived its
    /// lease) before the event is dead-lettered as poison instead of taking down one replica after another.
    /// </summary>
    [Range(1, 100)]
    public int PoisonClaimLimit { get; set; } = 5;

    /// <summary>How often a worker looks for due events it was not told about (retries, other replicas' events).</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:01:00")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long delivered events are kept, for deduplicating WeCom's resends.</summary>
    [Range(typeof(TimeSpan), "00:00:10", "30.00:00:00")]
    public TimeSpan DeliveredRetention { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How long dead letters are kept for inspection and replay.</summary>
    [Range(typeof(TimeSpan), "00:01:00", "365.00:00:00")]
    public TimeSpan DeadLetterRetention { get; set; } = TimeSpan.FromDays(7);

    /// <summary>On shutdown, how long in-flight deliveries may finish; the rest stay queued.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:05:00")]
    public TimeSpan ShutdownGrace { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Failures in a row, per puppet endpoint, that open its circuit.</summary>
    [Range(2, 1000)]
    public int CircuitBreakerMinimumThroughput { get; set; } = 5;

    /// <summary>How long an open circuit fails fast before one trial request.</summary>
    [Range(typeof(TimeSpan), "00:00:00.500", "00:10:00")]
    public TimeSpan CircuitBreakDuration { get; set; } = TimeSpan.FromSeconds(15);
}
