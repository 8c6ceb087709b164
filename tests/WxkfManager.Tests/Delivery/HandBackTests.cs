using Microsoft.Extensions.DependencyInjection;
using WxkfManager.Delivery;
using WxkfManager.Tests.Infrastructure;

namespace WxkfManager.Tests.Delivery;

/// <summary>
/// Over real HTTP, with puppets that leave attempts unanswered: events waiting in memory for one that turns out unreachable go
/// back to the store in one call (before, each went through a delivery slot only to be written back on its own: fifty such
/// puppets breaking at once made thousands of writes ahead of the callbacks' commits), and events that come while an attempt
/// goes unanswered wait in the store, put off, so there are few to hand back.
/// </summary>
public sealed class HandBackTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task EventsHeldForAPuppetThatStopsAnswering_GoBackToTheStoreInOneWrite_PutOff_AndReachItOnceItAnswers()
    {
        var calls = new DeliveryStoreCalls();
        // Silence longer than the attempt: every event sent meanwhile waits in memory.
        await using var app = new ManagerApp().With("Delivery:AttemptTimeout", "00:00:02").With("Delivery:SilenceBeforePutOff", "00:00:05")
            .WithServices(calls.Record);
        await app.InitializeAsync();
        var dispatcher = app.Services.GetRequiredService<DeliveryDispatcher>();
        var tracker = app.Services.GetRequiredService<DeliveryTracker>();
        var breakdown = app.Services.GetRequiredService<IQueueBreakdown>();
        var corp = new TestCorp();
        var silent = new TaskCompletionSource();
        var hole = await corp.RegisterPuppetAsync(app.Client, app.Puppets);
        hole.Gate = silent;
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(0.6), Ct); // past the hold that follows a registration
            var tokens = Enumerable.Range(0, 20).Select(n => $"held-{n}").ToList();
            foreach (var token in tokens)
            {
                await SendAsync(app, corp, hole.KfId, token);
            }

            // A puppet not yet heard from gets one attempt at a time; the rest wait in memory.
            Assert.Equal(1, dispatcher.InFlightFor(hole.KfId));
            Assert.Equal(tokens.Count - 1, dispatcher.Held);
            await Eventually.TrueAsync(() => Task.FromResult(tracker.HealthOf(hole.KfId).IsUnreachable), "the first attempt times out");
            await Eventually.TrueAsync(() => Task.FromResult(calls.Of(nameof(IDeliveryStore.HandBackAsync)).Count > 0), "the held events are handed back");
            // The attempt's own event is rescheduled once the hand-back is written.
            await Eventually.TrueAsync(() => Task.FromResult(calls.Of(nameof(IDeliveryStore.RescheduleAsync)).Count > 0), "the attempt's event is rescheduled");

            // One write for all of them, not one each.
            var handBacks = calls.Of(nameof(IDeliveryStore.HandBackAsync));
            Assert.True(handBacks.Count == 1, $"{handBacks.Count} hand-back calls");
            var handBack = handBacks[0];
            var handedBack = (IReadOnlyList<DeliveryRecord>)handBack.Arguments[0]!;
            Assert.Equal(tokens.Count - 1, handedBack.Count);
            Assert.True((DateTime)handBack.Arguments[1]! > DateTime.UtcNow.AddSeconds(20), "handed back put off, not due");
            Assert.Equal(0, dispatcher.Held);
            // The one attempt made is the only event written back on its own.
            var reschedules = calls.Of(nameof(IDeliveryStore.RescheduleAsync));
            Assert.True(reschedules.Count == 1, $"{reschedules.Count} events written back on their own");
            var counts = (await breakdown.ByKfIdAsync(DateTime.UtcNow, Ct))[hole.KfId];
            Assert.Equal(tokens.Count, counts.Queued);
            Assert.Equal(0, counts.Due);

            silent.SetResult();
            // Its probe takes one of them, and its first answer makes the rest due.
            var received = new HashSet<string>();
            while (received.Count < tokens.Count)
            {
                received.Add((await hole.NextAsync(TimeSpan.FromSeconds(10))).Token!);
            }
            Assert.Equal(tokens.ToHashSet(), received);
        }
        finally
        {
            silent.TrySetResult();
        }
    }

    [Fact]
    public async Task EventsForAPuppetThatLeavesAnAttemptUnanswered_WaitInTheStorePutOff_AndGoOnceItAnswers()
    {
        await using var app = new ManagerApp().With("Delivery:SilenceBeforePutOff", "00:00:00.300");
        await app.InitializeAsync();
        var dispatcher = app.Services.GetRequiredService<DeliveryDispatcher>();
        var tracker = app.Services.GetRequiredService<DeliveryTracker>();
        var breakdown = app.Services.GetRequiredService<IQueueBreakdown>();
        var (corp, slow, answer) = await PuppetThatHoldsItsAnswersAsync(app);
        try
        {
            await LeaveAnAttemptUnansweredPastTheSilenceAsync(app, corp, slow);

            var later = Enumerable.Range(0, 10).Select(n => $"later-{n}").ToList();
            foreach (var token in later)
            {
                await SendAsync(app, corp, slow.KfId, token);
            }

            // Not in memory: stored, put off, so nothing need be written again should the attempt time out.
            Assert.Equal(0, dispatcher.Held);
            var counts = (await breakdown.ByKfIdAsync(DateTime.UtcNow, Ct))[slow.KfId];
            Assert.Equal((later.Count + 1, 0), (counts.Queued, counts.Due));
            answer.SetResult();
            var received = new HashSet<string>();
            while (received.Count < later.Count + 1)
            {
                received.Add((await slow.NextAsync(TimeSpan.FromSeconds(5))).Token!);
            }
            Assert.Equal(later.Append("first").Order(), received.Order());
            Assert.False(tracker.HealthOf(slow.KfId).IsUnreachable);
        }
        finally
        {
            answer.TrySetResult();
        }
    }

    [Fact]
    public async Task AnEventPutOffWhileItsPuppetAnswersDuringTheWrite_IsMadeDue_NotLeftForItsPutOff()
    {
        var calls = new DeliveryStoreCalls();
        await using var app = new ManagerApp().With("Delivery:SilenceBeforePutOff", "00:00:00.300").WithServices(calls.Record);
        await app.InitializeAsync();
        var dispatcher = app.Services.GetRequiredService<DeliveryDispatcher>();
        var (corp, slow, answer) = await PuppetThatHoldsItsAnswersAsync(app);
        try
        {
            await LeaveAnAttemptUnansweredPastTheSilenceAsync(app, corp, slow);

            // The puppet answers, and the wake its answer makes is written, while the next event's put-off insert is on its way.
            DeliveryRecord? racing = null;
            calls.BeforeNext(nameof(IDeliveryStore.EnqueueAsync), args =>
            {
                racing = (DeliveryRecord)args[0]!;
                answer.SetResult();
                SpinWait.SpinUntil(() => !dispatcher.StillPutsOff(slow.KfId) && calls.Of(nameof(IDeliveryStore.WakeAsync)) is [{ Finished: true }, ..], TimeSpan.FromSeconds(10));
            });
            await SendAsync(app, corp, slow.KfId, "racing");

            Assert.NotNull(racing);
            Assert.True(racing.NextAttemptAt > racing.ReceivedAt.AddSeconds(10), $"the racing event was stored put off: {racing.NextAttemptAt:O} for {racing.ReceivedAt:O}, lease {racing.LeaseOwner}");
            Assert.True(calls.Of(nameof(IDeliveryStore.WakeAsync)).Count >= 2, "the intake woke the puppet's events after its insert");
            var received = new HashSet<string>();
            while (received.Count < 2)
            {
                // Well inside the put-off (a lease duration).
                received.Add((await slow.NextAsync(TimeSpan.FromSeconds(5))).Token!);
            }
            Assert.Equal(["first", "racing"], received.Order());
        }
        finally
        {
            answer.TrySetResult();
        }
    }

    /// <summary>A puppet registered in a corp of its own that holds every answer until <c>Answer</c> is set.</summary>
    private static async Task<(TestCorp Corp, PuppetStub.Puppet Slow, TaskCompletionSource Answer)> PuppetThatHoldsItsAnswersAsync(ManagerApp app)
    {
        var corp = new TestCorp();
        var slow = await corp.RegisterPuppetAsync(app.Client, app.Puppets);
        var answer = new TaskCompletionSource();
        slow.Gate = answer;
        return (corp, slow, answer);
    }

    /// <summary>Sends "first" to a puppet that holds its answer, and waits past the 300 ms silence that puts later events off.</summary>
    private static async Task LeaveAnAttemptUnansweredPastTheSilenceAsync(ManagerApp app, TestCorp corp, PuppetStub.Puppet slow)
    {
        await Task.Delay(TimeSpan.FromSeconds(0.6), Ct); // past the hold that follows a registration
        await SendAsync(app, corp, slow.KfId, "first");
        await Eventually.TrueAsync(() => Task.FromResult(slow.Attempts == 1), "the first attempt reaches the puppet");
        await Task.Delay(TimeSpan.FromSeconds(0.5), Ct);
    }

    private static async Task SendAsync(ManagerApp app, TestCorp corp, string kfId, string token)
    {
        var callback = corp.Callback(kfId, token);
        using var response = await app.Client.PostAsync(callback.Path, callback.Content(), Ct);
        Assert.Equal("success", await response.Content.ReadAsStringAsync(Ct));
    }

}
