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
}
