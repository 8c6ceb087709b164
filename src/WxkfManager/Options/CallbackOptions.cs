using System.ComponentModel.DataAnnotations;

namespace WxkfManager.Options;

public sealed class CallbackOptions
{
    public const string Section = "Callback";

    /// <summary>
    /// Largest callback body accepted. WeCom's encrypted callbacks are well under 2 KiB; 64 KiB leaves
    /// room for any event type while refusing junk before it is parsed.
    /// </summary>
    [Range(1024, 10 * 1024 * 1024)]
    public int MaxBodyBytes { get; set; } = 64 * 1024;

    /// <summary>
    /// How far a callback's timestamp may be from now, against replays of captured callbacks; zero turns the
    /// check off. WeCom sends its current time and resends within seconds, so 5 minutes is generous.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "1.00:00:00")]
    public TimeSpan TimestampTolerance { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Longest wait for the store to take a callback's event before answering 503 (WeCom then resends): WeCom
    /// gives up on an answer after about 5 seconds.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:00:30")]
    public TimeSpan StoreTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Accepted callbacks remembered (signature, timestamp, nonce) to answer resends without touching the store.</summary>
    [Range(0, 10_000_000)]
    public int RecentCallbackCacheSize { get; set; } = 100_000;
}
