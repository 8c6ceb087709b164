using System.ComponentModel.DataAnnotations;

namespace WxkfManager.Settings;

public sealed class DeliveryOptions
{
    public const string Section = "Delivery";

    /// <summary>How long one POST to a puppet may take before it counts as failed.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:05:00")]
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long connecting to a puppet may take; far below the attempt timeout, so a host that is gone fails fast.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:01:00")]
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>After a puppet stops answering, how soon its first probe (a real delivery of its oldest event) goes out.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:01:00")]
    public TimeSpan ProbeFirstInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest wait between two probes of a puppet that stays unreachable: bounds both the delay after it
    /// comes back and how often its failure is logged.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan ProbeMaxInterval { get; set; } = TimeSpan.FromSeconds(4);

    /// <summary>After a puppet refused an event (it answered, but not with success), the first wait before that event's next attempt; later ones double, with jitter.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:01:00")]
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>The longest wait between two attempts of an event the puppet refused.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long an event is worth delivering: WeCom's sync token for kf_msg_or_event is valid for 10 minutes.
    /// Older events go to the dead letters with their last error.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan MaxAge { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Deliveries in flight at once to puppets that have answered on this replica; as many again may go to puppets
    /// not yet heard from (one each), and probes of unreachable ones have a pool of their own (ProbeConcurrency).
    /// </summary>
    [Range(1, 4096)]
    public int Concurrency { get; set; } = 64;

    /// <summary>
    /// Deliveries to one puppet in flight at once, once it has answered on this replica (before that, one), so no
    /// puppet takes more than its share of <see cref="Concurrency"/>.
    /// </summary>
    [Range(1, 256)]
    public int MaxInFlightPerPuppet { get; set; } = 4;

    /// <summary>Probes of unreachable puppets in flight at once; a pool of their own, so broken puppets never take healthy ones' slots.</summary>
    [Range(1, 1024)]
    public int ProbeConcurrency { get; set; } = 16;

    /// <summary>Events held in memory waiting for a slot; past it, accepted events wait in the store and are claimed as room frees.</summary>
    [Range(1, 1_000_000)]
    public int HandOffCapacity { get; set; } = 10_000;

    /// <summary>Events of one puppet held in memory waiting for a slot; the rest of its backlog waits in the store.</summary>
    [Range(1, 100_000)]
    public int MaxHeldPerPuppet { get; set; } = 256;

    /// <summary>
    /// How long a puppet may leave its attempt unanswered before its new events wait in the store, put off, instead of in
    /// memory: should the attempt time out and the puppet turn out unreachable, only what came before this has to be written
    /// back then (on SQLite ~35 µs a row, on the writer that commits every callback). The attempt's end, answered or not,
    /// makes them due again, unless the puppet is then unreachable: then its probe's answer does.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:05:00")]
    public TimeSpan SilenceBeforePutOff { get; set; } = TimeSpan.FromSeconds(1);

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
}
