using Microsoft.Extensions.Options;
using WxkfManager.Delivery;
using WxkfManager.Settings;
using WxkfManager.OperatorConsole;
using WxkfManager.Registry;

namespace WxkfManager.Tests.OperatorConsole;

public sealed class FleetViewTests
{
    private static readonly DateTime T0 = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    private static readonly DeliveryResult Refused = new(false, null, "connection failed: ConnectionError", FailureKind.Unreachable);

    private static PuppetRegistration Puppet(bool online = true) =>
        new("wkFleet", "Fleet", "http://10.0.0.5:8080", "wwFleet", "secret", "token", "key", online, online ? null : T0.AddMinutes(-5), T0.AddHours(-1));

    [Fact]
    public void APuppetWhoseDeliveriesFail_IsUnreachable_SinceTheFirstFailure_UntilOneSucceeds()
    {
        var tracker = new DeliveryTracker(Options.Create(new DeliveryOptions()));
        tracker.Succeeded("wkFleet", T0);
        tracker.Failed("wkFleet", T0.AddSeconds(10), Refused);
        tracker.Failed("wkFleet", T0.AddSeconds(20), Refused);

        var down = ConsoleApi.ToView(Puppet(), tracker, new QueuedCounts(3, 1, 1));

        Assert.Equal(FleetStates.Unreachable, down.State);
        Assert.Equal(T0.AddSeconds(10), down.StateSince);
        Assert.Equal(2, down.ConsecutiveFailures);
        Assert.Equal((3, 1, 1), (down.Queued, down.Due, down.InFlight));

        tracker.Succeeded("wkFleet", T0.AddSeconds(30));
        var back = ConsoleApi.ToView(Puppet(), tracker, QueuedCounts.None);

        Assert.Equal(FleetStates.Online, back.State);
        Assert.Equal(T0.AddSeconds(30), back.StateSince);
        Assert.Null(tracker.HealthOf("wkFleet").FailingSince);
    }

    [Fact]
    public void ARegisteredPuppetWithoutFailures_IsOnlineSinceItRegistered_AndADeregisteredOneOffline()
    {
        var tracker = new DeliveryTracker(Options.Create(new DeliveryOptions()));

        var online = ConsoleApi.ToView(Puppet(), tracker, QueuedCounts.None);
        var offline = ConsoleApi.ToView(Puppet(online: false), tracker, QueuedCounts.None);

        Assert.Equal((FleetStates.Online, T0.AddHours(-1)), (online.State, online.StateSince));
        Assert.Equal((FleetStates.Offline, T0.AddMinutes(-5)), (offline.State, offline.StateSince));
    }
}
