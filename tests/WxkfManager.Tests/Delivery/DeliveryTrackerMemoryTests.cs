using Microsoft.Extensions.Options;
using WxkfManager.Delivery;
using WxkfManager.Settings;

namespace WxkfManager.Tests.Delivery;

/// <summary>Bounded memory: a fleet that registers and stays quiet leaves no health entries behind.</summary>
public sealed class DeliveryTrackerMemoryTests
{
    private static readonly DateTime T0 = new(2026, 12, 3, 12, 0, 0, DateTimeKind.Utc);

    [Fact]
    public void RegisteredPuppets_WhoseHoldRanOut_WithoutADelivery_AreForgotten_AndOnesWithHistoryKept()
    {
        var tracker = new DeliveryTracker(Options.Create(new DeliveryOptions()));
        for (var i = 0; i < 1000; i++)
        {
            tracker.Registered($"wk-quiet-{i}", T0, TimeSpan.FromSeconds(0.5));
        }
        tracker.Registered("wk-busy", T0, TimeSpan.FromSeconds(0.5));
        tracker.Succeeded("wk-busy", T0.AddSeconds(0.1));
        Assert.Equal(1001, tracker.Remembered);
        Assert.Contains("wk-quiet-1", tracker.Waiting(T0.AddSeconds(0.2)));

        Assert.Empty(tracker.Waiting(T0.AddSeconds(1)));

        Assert.Equal(1, tracker.Remembered);
        Assert.NotNull(tracker.HealthOf("wk-busy").LastSuccessAt);
        Assert.Equal(PuppetHealth.Unknown, tracker.HealthOf("wk-quiet-1"));
    }
}
