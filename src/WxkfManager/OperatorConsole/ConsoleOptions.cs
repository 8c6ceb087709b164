using System.ComponentModel.DataAnnotations;

namespace WxkfManager.OperatorConsole;

public sealed class ConsoleOptions
{
    public const string Section = "Console";

    /// <summary>How often the Live page's counters are sampled; the page shows the last 180 intervals (6 minutes at 2 s).</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:01:00")]
    public TimeSpan LiveSampleInterval { get; set; } = TimeSpan.FromSeconds(2);
}
