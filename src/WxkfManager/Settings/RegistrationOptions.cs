using System.ComponentModel.DataAnnotations;

namespace WxkfManager.Settings;

public sealed class RegistrationOptions
{
    public const string Section = "Registration";

    /// <summary>
    /// When a deregister could come from either of two instances of one address, how long to wait before
    /// checking whether the newest endpoint still answers: a stopping puppet deregisters just before it exits.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:01:00")]
    public TimeSpan HandOverProbeDelay { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>
    /// After a registration, how long the puppet's events (its backlog and new ones) wait before they go: a
    /// puppet registers before it has finished starting, and an event that arrives first can be lost in it.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:00:10")]
    public TimeSpan ReleaseDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>How long that check may take; no HTTP answer within it counts as gone.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:00:30")]
    public TimeSpan HandOverProbeTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Puppets this manager keeps registered at most, so a leaked key cannot register millions.</summary>
    [Range(1, 10_000_000)]
    public int MaxPuppets { get; set; } = 100_000;

    /// <summary>Puppets one corp may have registered at most.</summary>
    [Range(1, 10_000_000)]
    public int MaxPuppetsPerCorp { get; set; } = 10_000;

    /// <summary>
    /// How long a kfId or corp the store did not have is taken as unknown without asking the store again, so a
    /// flood of callbacks naming it costs one read per period. A registration of it, here or through another
    /// replica's change, ends this at once.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00")]
    public TimeSpan MissCacheDuration { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How many such unknown kfIds (and, apart, corps) are remembered at most; the oldest go first. 0 turns it off.</summary>
    [Range(0, 1_000_000)]
    public int MissCacheSize { get; set; } = 10_000;
}
