using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using WxkfManager.Metrics;
using WxkfManager.OperatorConsole;

namespace WxkfManager.Tests.OperatorConsole;

/// <summary>The Live page's totals come from this host's instruments, and only this host's.</summary>
public sealed class LiveCountersTests
{
    private static ManagerMetrics NewMetrics(ServiceProvider services) => new(services.GetRequiredService<IMeterFactory>());

    [Fact]
    public void Totals_FollowTheCallbackAndDeliveryInstruments_OfThisHostOnly()
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        using var otherHost = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var metrics = NewMetrics(services);
        var other = NewMetrics(otherHost);
        using var counters = new LiveCounters(metrics);
        var t0 = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);

        metrics.CallbackReceived("encrypted");
        metrics.CallbackReceived("decrypted");
        metrics.CallbackRefused("signature_mismatch");
        metrics.Delivered(t0, t0.AddSeconds(-10), t0.AddSeconds(2));
        metrics.DeliveryRetried();
        metrics.DeliveryDeadLettered();
        other.CallbackReceived("encrypted");
        other.DeliveryRetried();
        var snapshot = counters.Read(new DateTimeOffset(t0));

        Assert.Equal(2, snapshot.Callbacks);
        Assert.Equal(1, snapshot.Delivered);
        Assert.Equal(2, snapshot.DeliveryFailures);
        Assert.Equal(1, snapshot.LatencyCount);
        Assert.Equal(2, snapshot.LatencySumSeconds, precision: 6);
        Assert.Equal(1, snapshot.RefusedByReason["signature_mismatch"]);
    }
}
