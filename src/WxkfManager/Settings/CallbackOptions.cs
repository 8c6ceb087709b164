using System.ComponentModel.DataAnnotations;

namespace WxkfManager.Settings;

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
    /// Largest body of the unsigned gateway path /callback/decrypted: a sync token and an open_kfid take a few
    /// hundred bytes, so anything bigger is refused (413) before it is parsed.
    /// </summary>
    [Range(256, 64 * 1024)]
    public int MaxDecryptedBodyBytes { get; set; } = 2 * 1024;

    /// <summary>
    /// Events one puppet may have waiting (pending or in flight). Past it callbacks for that puppet are answered
    /// 503 with Retry-After, unstored, so a flood for one kfId cannot fill the disk, and nothing already
    /// acknowledged is dropped.
    /// </summary>
    [Range(1, 10_000_000)]
    public int MaxQueuedPerPuppet { get; set; } = 10_000;

    /// <summary>The Retry-After, in seconds, of a callback refused because its puppet's queue is full.</summary>
    [Range(1, 3600)]
    public int QueueFullRetryAfterSeconds { get; set; } = 30;

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
