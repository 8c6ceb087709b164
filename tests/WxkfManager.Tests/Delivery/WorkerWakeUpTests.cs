using Microsoft.Extensions.Options;
using WxkfManager.Delivery;
using WxkfManager.Settings;

namespace WxkfManager.Tests.Delivery;

/// <summary>
/// What wakes the delivery worker, and whether it then reads the store: with more unreachable puppets than probe slots
/// a probe is always past due, and the worker must wait for a slot, not for the clock.
/// </summary>
public sealed class WorkerWakeUpTests
{
    private static readonly DateTime T0 = new(2026, 12, 3, 12, 0, 0, DateTimeKind.Utc);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Notify_WakesTheWorkerToReadTheStore()
    {
        var signal = new DeliverySignal();

        signal.Notify();

        Assert.True(await signal.WaitAsync(TimeSpan.FromMinutes(5), Ct).WaitAsync(TimeSpan.FromSeconds(10), Ct));
        Assert.Equal(1, signal.Notifications);
    }

    [Fact]
    public async Task ProbeRoom_WakesTheWorker_WithoutAskingItToReadTheStore()
    {
        var signal = new DeliverySignal();

        signal.NotifyProbeRoom();

        Assert.False(await signal.WaitAsync(TimeSpan.FromMinutes(5), Ct).WaitAsync(TimeSpan.FromSeconds(10), Ct));
        Assert.Equal(0, signal.Notifications);
    }

    [Fact]
    public async Task ProbeRoomAndAStoreNotification_Together_AskForTheStoreRead()
    {
        var signal = new DeliverySignal();

        signal.NotifyProbeRoom();
        signal.Notify();

        Assert.True(await signal.WaitAsync(TimeSpan.FromMinutes(5), Ct).WaitAsync(TimeSpan.FromSeconds(10), Ct));
    }

    [Fact]
    public void NextWakeAt_LeavesOutDueProbes_WhileNoProbeCanStart_ButKeepsTheEndOfAHold()
    {
        var tracker = new DeliveryTracker(Options.Create(new DeliveryOptions()));
        tracker.Failed("wk-down", T0, new DeliveryResult(false, null, "no answer within 5 s", FailureKind.Unreachable));
        var probeAt = tracker.HealthOf("wk-down").NextProbeAt!.Value;
        var now = probeAt.AddSeconds(10);

        Assert.Equal(probeAt, tracker.NextWakeAt(now));
        Assert.Null(tracker.NextWakeAt(now, probesCanStart: false));

        tracker.Registered("wk-new", now, TimeSpan.FromSeconds(1));
        Assert.Equal(now.AddSeconds(1), tracker.NextWakeAt(now, probesCanStart: false));
    }

    [Fact]
    public async Task AProbeEnding_WakesTheWorkerForTheNextProbe_WithoutAStoreRead()
    {
        var options = Options.Create(new DeliveryOptions { ProbeConcurrency = 1 });
        var signal = new DeliverySignal();
        var tracker = new DeliveryTracker(options);
        var dispatcher = new DeliveryDispatcher(tracker, signal, TimeProvider.System, options,
            Microsoft.Extensions.Logging.Abstractions.NullLogger<DeliveryDispatcher>.Instance);
        var probe = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        dispatcher.Start((_, _) => probe.Task);
        dispatcher.StartProbe(DeliveryStoreContract.NewRecord(T0, kfId: "wk-down"));
        Assert.Equal(0, dispatcher.RoomForProbes);
        var woken = signal.WaitAsync(TimeSpan.FromMinutes(5), Ct);
        Assert.False(woken.IsCompleted);

        probe.SetResult();

        Assert.False(await woken.WaitAsync(TimeSpan.FromSeconds(10), Ct));
        Assert.Equal(1, dispatcher.RoomForProbes);
        Assert.Equal(0, signal.Notifications);
    }
}
