using Microsoft.Extensions.Options;
using System.Collections.Concurrent;
using Microsoft.Extensions.Logging.Abstractions;
using WxkfManager.Delivery;
using WxkfManager.Settings;

namespace WxkfManager.Tests.Delivery;

/// <summary>
/// The in-memory hand-off's fairness, with a delivery that finishes only when the test says: no clock, no network.
/// </summary>
public sealed class DeliveryDispatcherTests
{
    private static readonly DateTime T0 = new(2026, 12, 3, 12, 0, 0, DateTimeKind.Utc);

    private readonly DeliveryOptions _options = new() { Concurrency = 8, MaxInFlightPerPuppet = 3, ProbeConcurrency = 2 };
    private readonly DeliveryTracker _tracker;
    private readonly DeliveryDispatcher _dispatcher;
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _started = new();

    public DeliveryDispatcherTests()
    {
        var options = Options.Create(_options);
        _tracker = new DeliveryTracker(options);
        _dispatcher = new DeliveryDispatcher(_tracker, new DeliverySignal(), TimeProvider.System, options, NullLogger<DeliveryDispatcher>.Instance);
        _dispatcher.Start((record, _) =>
        {
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _started[record.Id] = done;
            return done.Task;
        });
    }

    private static DeliveryRecord Event(string kfId, int n) =>
        DeliveryStoreContract.NewRecord(T0, kfId: kfId) with { Id = $"{kfId}-{n}", LeaseOwner = "me/" + n, LeaseUntil = T0.AddMinutes(1) };

    private void Proven(string kfId) => _tracker.Succeeded(kfId, T0);

    private int StartedFor(string kfId) => _dispatcher.InFlightFor(kfId);

    /// <summary>Finishes an attempt once it has begun; the slot passes on in a continuation, so wait for the held count to move.</summary>
    private async Task FinishAsync(string id)
    {
        while (!_started.ContainsKey(id))
        {
            await Task.Delay(5, TestContext.Current.CancellationToken);
        }
        var held = _dispatcher.Held;
        _started[id].SetResult();
        while (_dispatcher.Held == held)
        {
            await Task.Delay(5, TestContext.Current.CancellationToken);
        }
    }

    private static readonly AsyncLocal<string?> HandedOverBy = new();

    [Fact]
    public async Task AnAttempt_AndTheNextOneItsEndStarts_TakeNoContextFromTheCodeThatHandedTheEventOver()
    {
        var options = Options.Create(_options);
        var seen = new ConcurrentQueue<(string Id, string? HandedOverBy, System.Diagnostics.Activity? Activity)>();
        var dispatcher = new DeliveryDispatcher(new DeliveryTracker(options), new DeliverySignal(), TimeProvider.System, options,
            NullLogger<DeliveryDispatcher>.Instance);
        dispatcher.Start(async (record, _) =>
        {
            seen.Enqueue((record.Id, HandedOverBy.Value, System.Diagnostics.Activity.Current));
            // The first attempt hands its slot to the second as it ends, inside its own context.
            HandedOverBy.Value = "the attempt before";
            await Task.Yield();
        });
        HandedOverBy.Value = "a callback's request";
        using var request = new System.Diagnostics.Activity("POST /callback").Start();

        // A puppet not yet proven gets one attempt at a time, so the second starts from the end of the first.
        dispatcher.Add([Event("wk-fresh", 0), Event("wk-fresh", 1)]);
        while (seen.Count < 2)
        {
            await Task.Delay(5, TestContext.Current.CancellationToken);
        }

        Assert.Equal(["wk-fresh-0", "wk-fresh-1"], seen.Select(s => s.Id));
        Assert.All(seen, s => Assert.Null(s.HandedOverBy));
        Assert.All(seen, s => Assert.Null(s.Activity));
    }

    [Fact]
    public void ProvenPuppet_HasAtMostItsShareInFlight_WhileOtherPuppetsDeliver()
    {
        Proven("wk-busy");
        Proven("wk-other");

        _dispatcher.Add(Enumerable.Range(0, 20).Select(n => Event("wk-busy", n)).ToList());
        _dispatcher.Add(Enumerable.Range(0, 2).Select(n => Event("wk-other", n)).ToList());

        Assert.Equal(3, StartedFor("wk-busy"));
        Assert.Equal(2, StartedFor("wk-other"));
        Assert.Equal(17, _dispatcher.Held);
    }

    [Fact]
    public async Task FinishedAttempt_GivesTheSlotToTheSamePuppetsNextEvent_NeverPastItsShare()
    {
        Proven("wk-busy");
        _dispatcher.Add(Enumerable.Range(0, 6).Select(n => Event("wk-busy", n)).ToList());
        Assert.Equal(3, StartedFor("wk-busy"));

        await FinishAsync("wk-busy-0");

        Assert.Equal(3, StartedFor("wk-busy"));
        Assert.Equal(2, _dispatcher.Held);
    }

    [Fact]
    public void PuppetNotYetHeardFrom_GetsOneAttemptAtATime()
    {
        _dispatcher.Add(Enumerable.Range(0, 5).Select(n => Event("wk-new", n)).ToList());

        Assert.Equal(1, StartedFor("wk-new"));
        Assert.Equal(4, _dispatcher.Held);
    }

    [Fact]
    public void LanesTakeTurns_SoABacklogDoesNotQueueAheadOfAnotherPuppetsEvent()
    {
        // Proven pool of 8, shares of 3: the busy puppets fill six slots and the late puppet still gets in.
        Proven("wk-a");
        Proven("wk-b");
        Proven("wk-late");
        _dispatcher.Add(Enumerable.Range(0, 100).Select(n => Event("wk-a", n)).ToList());
        _dispatcher.Add(Enumerable.Range(0, 100).Select(n => Event("wk-b", n)).ToList());

        _dispatcher.Add(Event("wk-late", 0));

        Assert.Equal(1, StartedFor("wk-late"));
    }

    [Fact]
    public void FortyBlackHoledPuppets_HoldingFourHundredEvents_DoNotDelayAProvenPuppetsEvent()
    {
        // Endpoints that accept and never answer: their attempts never finish in this test.
        for (var p = 0; p < 40; p++)
        {
            _dispatcher.Add(Enumerable.Range(0, 10).Select(n => Event($"wk-hole{p:00}", n)).ToList());
        }
        Proven("wk-healthy");

        _dispatcher.Add(Event("wk-healthy", 0));

        Assert.Equal(1, StartedFor("wk-healthy"));
        // The black holes hold only their trial slots (one each, up to the pool), never a proven one.
        Assert.Equal(_options.Concurrency, Enumerable.Range(0, 40).Sum(p => StartedFor($"wk-hole{p:00}")));
    }

    [Fact]
    public void UnreachablePuppetsProbes_UseTheirOwnPool()
    {
        _dispatcher.StartProbe(Event("wk-down1", 0));
        _dispatcher.StartProbe(Event("wk-down2", 0));
        Assert.Equal(0, _dispatcher.RoomForProbes);

        Proven("wk-healthy");
        _dispatcher.Add(Enumerable.Range(0, 3).Select(n => Event("wk-healthy", n)).ToList());

        Assert.Equal(3, StartedFor("wk-healthy"));
    }

    [Fact]
    public void Stop_ReturnsTheEventsNotStarted_AndTakesNoMore()
    {
        Proven("wk-busy");
        _dispatcher.Add(Enumerable.Range(0, 5).Select(n => Event("wk-busy", n)).ToList());

        var handedBack = _dispatcher.Stop();

        Assert.Equal(["wk-busy-3", "wk-busy-4"], handedBack.Select(r => r.Id).Order());
        Assert.Equal(FreshRoute.Store, _dispatcher.RouteFresh("wk-busy", T0));
        Assert.Equal(3, _dispatcher.Running().Length);
    }

    [Fact]
    public void LeaseEndingWhileHeld_IsRenewed_OrTheCopyIsDroppedWhenTheLeaseWasLost()
    {
        Proven("wk-busy");
        _dispatcher.Add(Enumerable.Range(0, 5).Select(n => Event("wk-busy", n)).ToList());

        var ending = _dispatcher.LeasesEndingBefore(T0.AddMinutes(2));
        Assert.Equal(["wk-busy-3", "wk-busy-4"], ending.Select(h => h.Record.Id).Order());
        _dispatcher.Renewed(ending.Single(h => h.Record.Id == "wk-busy-3"), T0.AddMinutes(5));
        _dispatcher.Renewed(ending.Single(h => h.Record.Id == "wk-busy-4"), until: null);

        Assert.Empty(_dispatcher.LeasesEndingBefore(T0.AddMinutes(2)));
        Assert.Equal(["wk-busy-3"], _dispatcher.Stop().Select(r => r.Id));
    }

    [Fact]
    public void FreshEvents_WaitInTheStore_ForAPuppetThatIsWaiting_OrALaneThatIsFull()
    {
        var options = new DeliveryOptions { MaxHeldPerPuppet = 2, MaxInFlightPerPuppet = 1 };
        var tracker = new DeliveryTracker(Options.Create(options));
        var dispatcher = new DeliveryDispatcher(tracker, new DeliverySignal(), TimeProvider.System,
            Options.Create(options), NullLogger<DeliveryDispatcher>.Instance);
        dispatcher.Start((_, _) => new TaskCompletionSource().Task);
        tracker.Registered("wk-held", T0, TimeSpan.FromSeconds(1));

        Assert.Equal(FreshRoute.Wait, dispatcher.RouteFresh("wk-held", T0));
        Assert.Equal(FreshRoute.HandOff, dispatcher.RouteFresh("wk-held", T0.AddSeconds(2)));

        dispatcher.Add(Enumerable.Range(0, 3).Select(n => Event("wk-full", n)).ToList());
        Assert.Equal(FreshRoute.Store, dispatcher.RouteFresh("wk-full", T0));
        Assert.Equal(["wk-full"], dispatcher.FullLanes());
    }

    [Fact]
    public async Task TakeHeld_GivesUpThePuppetsWaitingEvents_LeavingItsAttemptUnderWay_AndOtherPuppetsLanes()
    {
        Proven("wk-other");
        _dispatcher.Add(Enumerable.Range(0, 4).Select(n => Event("wk-breaking", n)).ToList());
        _dispatcher.Add(Enumerable.Range(0, 5).Select(n => Event("wk-other", n)).ToList());
        Assert.Equal(1, StartedFor("wk-breaking"));
        Assert.Equal(3 + 2, _dispatcher.Held);

        var taken = _dispatcher.TakeHeld("wk-breaking");

        Assert.Equal(["wk-breaking-1", "wk-breaking-2", "wk-breaking-3"], taken.Select(r => r.Id));
        Assert.Equal(2, _dispatcher.Held);
        Assert.Equal(1, StartedFor("wk-breaking"));
        Assert.Empty(_dispatcher.TakeHeld("wk-breaking"));
        Assert.Empty(_dispatcher.TakeHeld("wk-unknown"));
        // Its attempt ends, and nothing of its follows; the other puppet's events still do.
        while (!_started.ContainsKey("wk-breaking-0"))
        {
            await Task.Delay(5, TestContext.Current.CancellationToken);
        }
        _started["wk-breaking-0"].SetResult();
        while (StartedFor("wk-breaking") > 0)
        {
            await Task.Delay(5, TestContext.Current.CancellationToken);
        }
        Assert.Equal(2, _dispatcher.Held);
        Assert.Equal(["wk-other-3", "wk-other-4"], _dispatcher.Stop().Select(r => r.Id));
    }

    [Fact]
    public void FreshEvents_ArePutOff_OnceAnAttemptGoesUnansweredForTheSilence_AndItsEndSaysSoOnce()
    {
        _dispatcher.Add([Event("wk-slow", 0)]);
        var started = DateTime.UtcNow;
        var silence = _options.SilenceBeforePutOff;

        Assert.NotEqual(FreshRoute.PutOff, _dispatcher.RouteFresh("wk-slow", started));
        Assert.False(_dispatcher.StillPutsOff("wk-slow"));
        Assert.Equal(FreshRoute.HandOff, _dispatcher.RouteFresh("wk-idle", started + silence));
        Assert.Equal(FreshRoute.PutOff, _dispatcher.RouteFresh("wk-slow", started + silence));
        Assert.True(_dispatcher.StillPutsOff("wk-slow"));
        var ended = started + silence + silence;
        Assert.True(_dispatcher.AttemptEnded("wk-slow", ended));
        // An intake that put an event off and finds this has ended must make it due itself.
        Assert.False(_dispatcher.StillPutsOff("wk-slow"));
        Assert.False(_dispatcher.AttemptEnded("wk-slow", ended));
        // Silence counts afresh from the attempt's end.
        Assert.NotEqual(FreshRoute.PutOff, _dispatcher.RouteFresh("wk-slow", ended + silence / 2));
        Assert.False(_dispatcher.AttemptEnded("wk-slow", ended + silence / 2));
    }

    [Fact]
    public void FreshEvents_ForAnUnreachablePuppet_ArePutOff_UntilItAnswersAgain()
    {
        var refused = new DeliveryResult(false, null, "connection failed: ConnectionRefused", FailureKind.Unreachable);
        Assert.True(_tracker.Failed("wk-down", T0, refused).IsUnreachable);

        Assert.Equal(FreshRoute.PutOff, _dispatcher.RouteFresh("wk-down", T0.AddMinutes(1)));
        Assert.True(_dispatcher.StillPutsOff("wk-down"));
        _tracker.Succeeded("wk-down", T0.AddMinutes(2));
        Assert.False(_dispatcher.StillPutsOff("wk-down"));
        Assert.Equal(FreshRoute.HandOff, _dispatcher.RouteFresh("wk-down", T0.AddMinutes(2)));
    }
}
