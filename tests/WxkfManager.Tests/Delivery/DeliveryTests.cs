using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using WxkfManager.Delivery;
using WxkfManager.Registry;
using WxkfManager.Settings;
using WxkfManager.Storage.Sqlite;

namespace WxkfManager.Tests.Delivery;

/// <summary>The delivery promise over real HTTP: once WeCom has its "success", the event reaches its puppet or is a visible, replayable dead letter.</summary>
public sealed class DeliveryTests(ManagerApp app) : IClassFixture<ManagerApp>
{
    private HttpClient Client => app.Client;

    [Fact]
    public async Task PuppetDownForThreeSeconds_ThenBack_GetsTheEvent()
    {
        var corp = new TestCorp();
        var port = StubServer.FreePort();
        var kfId = TestCorp.NewKfId();
        (await Client.PostAsJsonAsync("/puppetWxkfManager/register", corp.Registration(kfId, $"http://127.0.0.1:{port}/p/restarting"), Ct)).EnsureSuccessStatusCode();
        var callback = corp.Callback(kfId, syncToken: "while-down");

        using var response = await Client.PostAsync(callback.Path, callback.Content(), Ct);
        Assert.Equal("success", await response.Content.ReadAsStringAsync(Ct));

        // Nothing listens on the port for three seconds: connection refused, again and again.
        await Task.Delay(TimeSpan.FromSeconds(3), Ct);
        var info = await Client.GetFromJsonAsync<JsonElement>($"/puppetWxkfManager/puppetWxkfInfo/{kfId}", Ct);
        Assert.True(info.GetProperty("delivery").GetProperty("consecutiveFailures").GetInt32() >= 1);
        Assert.Contains("connection failed", info.GetProperty("delivery").GetProperty("lastError").GetString());

        await using var restarted = await PuppetStub.StartAsync(port);
        var puppet = restarted.Add(kfId, corp.CorpId, corp.Token, corp.EncodingAesKey, name: "restarting");
        Assert.Equal("while-down", (await puppet.NextAsync(TimeSpan.FromSeconds(15))).Token);
    }

    [Fact]
    public async Task PuppetAnswering500_IsRetriedUntilItRecovers()
    {
        var corp = new TestCorp();
        var puppet = await corp.RegisterPuppetAsync(Client, app.Puppets);
        puppet.FailNext(8);
        var callback = corp.Callback(puppet.KfId, syncToken: "after-8-failures");

        await Client.PostAsync(callback.Path, callback.Content(), Ct);

        Assert.Equal("after-8-failures", (await puppet.NextAsync(TimeSpan.FromSeconds(15))).Token);
        Assert.Equal(9, puppet.Attempts);
    }

    [Fact]
    public async Task SlowPuppet_DoesNotDelayTheAnswer_NorOtherPuppets()
    {
        var corp = new TestCorp();
        var slow = await corp.RegisterPuppetAsync(Client, app.Puppets);
        var fast = await corp.RegisterPuppetAsync(Client, app.Puppets);
        slow.Delay = TimeSpan.FromSeconds(3);

        var toSlow = corp.Callback(slow.KfId, syncToken: "slow");
        using var slowAnswer = await Client.PostAsync(toSlow.Path, toSlow.Content(), Ct);
        var toFast = corp.Callback(fast.KfId, syncToken: "fast");
        using var fastAnswer = await Client.PostAsync(toFast.Path, toFast.Content(), Ct);

        Assert.Equal("success", await slowAnswer.Content.ReadAsStringAsync(Ct));
        Assert.Equal("success", await fastAnswer.Content.ReadAsStringAsync(Ct));
        Assert.Equal("fast", (await fast.NextAsync()).Token);
        // The fast puppet had its event while the slow one was still working on its own.
        Assert.Equal(0, slow.Received);
        Assert.Equal("slow", (await slow.NextAsync(TimeSpan.FromSeconds(10))).Token);
    }

    [Fact]
    public async Task WeComResend_OfTheSameCallback_IsDeliveredOnce()
    {
        var corp = new TestCorp();
        var puppet = await corp.RegisterPuppetAsync(Client, app.Puppets);
        var callback = corp.Callback(puppet.KfId, syncToken: "sent-twice");

        using var first = await Client.PostAsync(callback.Path, callback.Content(), Ct);
        using var resend = await Client.PostAsync(callback.Path, callback.Content(), Ct);

        Assert.Equal("success", await first.Content.ReadAsStringAsync(Ct));
        Assert.Equal("success", await resend.Content.ReadAsStringAsync(Ct));
        Assert.Equal("sent-twice", (await puppet.NextAsync()).Token);
        Assert.True(await puppet.NothingArrivesAsync(TimeSpan.FromSeconds(1)));
    }

    [Fact]
    public async Task SameSyncToken_ViaGatewayAndWeCom_IsDeliveredOnce()
    {
        var corp = new TestCorp();
        var puppet = await corp.RegisterPuppetAsync(Client, app.Puppets);
        var callback = corp.Callback(puppet.KfId, syncToken: "one-event");

        await Client.PostAsync(callback.Path, callback.Content(), Ct);
        using var viaGateway = await Client.PostAsJsonAsync($"/callback/decrypted/{corp.CorpId}", new { token = "one-event", openKfId = puppet.KfId }, Ct);

        Assert.Equal("roger", await viaGateway.Content.ReadAsStringAsync(Ct));
        Assert.Equal("one-event", (await puppet.NextAsync()).Token);
        Assert.True(await puppet.NothingArrivesAsync(TimeSpan.FromSeconds(1)));
    }

    [Fact]
    public async Task EventForADeregisteredPuppet_IsADeadLetter_AndReachesThePuppetWhenItRegistersAgain()
    {
        var corp = new TestCorp();
        var puppet = await corp.RegisterPuppetAsync(Client, app.Puppets);
        (await Client.PostAsJsonAsync("/puppetWxkfManager/deregister", new { kfId = puppet.KfId, corpId = corp.CorpId }, Ct)).EnsureSuccessStatusCode();
        var callback = corp.Callback(puppet.KfId, syncToken: "missed");

        using var response = await Client.PostAsync(callback.Path, callback.Content(), Ct);

        Assert.Equal("success", await response.Content.ReadAsStringAsync(Ct));
        var letter = await DeadLetterForAsync(puppet.KfId);
        Assert.Equal("puppet is deregistered", letter.GetProperty("reason").GetString());
        Assert.True(await puppet.NothingArrivesAsync(TimeSpan.FromMilliseconds(500)));

        // It comes back within the age limit, while the event's sync token is still valid: the event follows.
        (await Client.PostAsJsonAsync("/puppetWxkfManager/register", corp.Registration(puppet.KfId, puppet.Endpoint), Ct)).EnsureSuccessStatusCode();
        Assert.Equal("missed", (await puppet.NextAsync()).Token);
        Assert.True(await puppet.NothingArrivesAsync(TimeSpan.FromMilliseconds(500)));
    }

    [Fact]
    public async Task GatewayRepost_OfAnEventThatWasGivenUpOn_IsDelivered_NotHeldBackAsADuplicate()
    {
        var corp = new TestCorp();
        var puppet = await corp.RegisterPuppetAsync(Client, app.Puppets);
        // The first copy of this sync token was given up on earlier (the gateway path stores nothing unsigned
        // for an offline puppet, so the dead letter is put in the queue directly).
        var now = DateTime.UtcNow;
        var given = DeliveryStoreContract.NewRecord(state: DeliveryState.Dead, kfId: puppet.KfId, decrypted: true) with
        {
            CorpId = corp.CorpId, Body = $$"""{"token":"given-up","openKfId":"{{puppet.KfId}}"}""",
            TokenKey = DeliveryRecord.TokenKeyOf(puppet.KfId, "given-up"), ReceivedAt = now.AddMinutes(-30),
            NextAttemptAt = now.AddMinutes(-30), ExpiresAt = now.AddMinutes(-20), CompletedAt = now.AddMinutes(-20),
        };
        Assert.True(await app.Services.GetRequiredService<IDeliveryStore>().TryEnqueueAsync(given, Ct));

        using var repost = await Client.PostAsJsonAsync($"/callback/decrypted/{corp.CorpId}", new { token = "given-up", openKfId = puppet.KfId }, Ct);

        Assert.Equal("roger", await repost.Content.ReadAsStringAsync(Ct));
        Assert.Equal("given-up", (await puppet.NextAsync()).Token);
    }

    [Fact]
    public async Task DeadLetter_IsReplayableByAnOperator()
    {
        var corp = new TestCorp();
        var stranger = TestCorp.NewKfId();
        await corp.RegisterPuppetAsync(Client, app.Puppets);
        var callback = corp.Callback(stranger, syncToken: "replayed");
        await Client.PostAsync(callback.Path, callback.Content(), Ct);
        var letter = await DeadLetterForAsync(stranger);
        var puppet = app.Puppets.Add(stranger, corp.CorpId, corp.Token, corp.EncodingAesKey);
        // Registered through the store alone, as another replica would: nothing releases the letter but the operator.
        var registry = app.Services.GetRequiredService<IPuppetRegistry>();
        await registry.UpsertAsync(new PuppetRegistration(stranger, "late", puppet.Endpoint, corp.CorpId, corp.CorpSecret, corp.Token,
            corp.EncodingAesKey, Online: true, LastOnlineDate: null, RegisteredAt: DateTime.UtcNow), Ct);
        await app.Services.GetRequiredService<PuppetDirectory>().RefreshAsync(Ct);

        using var replay = await Client.PostAsync($"/operator/dead-letters/{letter.GetProperty("id").GetString()}/replay", null, Ct);

        Assert.Equal(HttpStatusCode.OK, replay.StatusCode);
        Assert.Equal("replayed", (await puppet.NextAsync()).Token);
    }

    [Fact]
    public async Task EventForAnUnknownPuppet_IsADeadLetterWithTheReason()
    {
        var corp = new TestCorp();
        await corp.RegisterPuppetAsync(Client, app.Puppets);
        var stranger = TestCorp.NewKfId();
        var callback = corp.Callback(stranger);

        using var response = await Client.PostAsync(callback.Path, callback.Content(), Ct);

        Assert.Equal("success", await response.Content.ReadAsStringAsync(Ct));
        Assert.Equal("puppet is not registered", (await DeadLetterForAsync(stranger)).GetProperty("reason").GetString());
    }

    [Fact]
    public async Task Replay_OfAnUnknownId_IsNotFound()
    {
        using var response = await Client.PostAsync("/operator/dead-letters/no-such-id/replay", null, Ct);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task DeadLetters_WithABadLimit_IsBadRequest()
    {
        using var response = await Client.GetAsync("/operator/dead-letters?limit=0", Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task Queue_ShowsDepth()
    {
        var queue = await Client.GetFromJsonAsync<JsonElement>("/operator/queue", Ct);

        foreach (var field in new[] { "pending", "inFlight", "deadLetters", "deliveredRetained" })
        {
            Assert.True(queue.GetProperty(field).GetInt32() >= 0);
        }
    }

    [Fact]
    public async Task UnreachablePuppet_IsShownUnreachable_WithItsWaitingEvents_WhileOthersDeliver()
    {
        var corp = new TestCorp();
        var failing = await corp.RegisterPuppetAsync(Client, app.Puppets);
        var healthy = await corp.RegisterPuppetAsync(Client, app.Puppets);
        failing.FailureStatus = 503;
        failing.Failing = true;
        for (var i = 0; i < 3; i++)
        {
            var callback = corp.Callback(failing.KfId);
            await Client.PostAsync(callback.Path, callback.Content(), Ct);
        }

        var state = await Eventually.WaitForAsync<JsonElement>(async () =>
        {
            var puppets = await Client.GetFromJsonAsync<List<JsonElement>>("/operator/puppets", Ct);
            var mine = puppets!.Single(p => p.GetProperty("kfId").GetString() == failing.KfId).GetProperty("delivery");
            return !mine.GetProperty("reachable").GetBoolean() && mine.GetProperty("waiting").GetInt32() == 3 ? mine : null;
        });
        Assert.True(state.GetProperty("consecutiveFailures").GetInt32() >= 1);
        Assert.Contains("503", state.GetProperty("lastError").GetString());
        Assert.Equal(JsonValueKind.String, state.GetProperty("unreachableSince").ValueKind);
        Assert.Equal(JsonValueKind.String, state.GetProperty("nextAttemptAt").ValueKind);
        Assert.Contains(state.GetProperty("circuit").GetString(), new[] { CircuitStates.Open, CircuitStates.HalfOpen });

        var toHealthy = corp.Callback(healthy.KfId, syncToken: "unaffected");
        await Client.PostAsync(toHealthy.Path, toHealthy.Content(), Ct);
        Assert.Equal("unaffected", (await healthy.NextAsync()).Token);
        // The puppet has the event a moment before the manager has its answer: wait for the record of success.
        var healthyDelivery = await Eventually.WaitForAsync<JsonElement>(async () =>
        {
            var info = await Client.GetFromJsonAsync<JsonElement>($"/puppetWxkfManager/puppetWxkfInfo/{healthy.KfId}", Ct);
            var delivery = info.GetProperty("delivery");
            return delivery.GetProperty("lastSuccessAt").ValueKind == JsonValueKind.String ? delivery : null;
        });
        Assert.True(healthyDelivery.GetProperty("reachable").GetBoolean());
        Assert.Equal(CircuitStates.Closed, healthyDelivery.GetProperty("circuit").GetString());
        Assert.Equal(0, healthyDelivery.GetProperty("consecutiveFailures").GetInt32());
        failing.Failing = false;
    }

    private async Task<JsonElement> DeadLetterForAsync(string kfId) =>
        await Eventually.WaitForAsync<JsonElement>(async () =>
        {
            var dead = await Client.GetFromJsonAsync<List<JsonElement>>("/operator/dead-letters?limit=1000", Ct);
            return dead!.FirstOrDefault(d => d.GetProperty("kfId").GetString() == kfId) is { ValueKind: JsonValueKind.Object } letter ? letter : null;
        });

    // The Observability tests still call it here; Eventually.WaitForAsync is the one to use.
    internal static Task<T> WaitForAsync<T>(Func<Task<T?>> probe, TimeSpan? timeout = null) where T : struct =>
        Eventually.WaitForAsync(probe, timeout);
}

/// <summary>Age limit and shutdown: each needs a manager of its own.</summary>
public sealed class DeliveryLifecycleTests
{
    [Fact]
    public async Task PuppetDownPastTheAgeLimit_IsDeadLettered_AndReplayDeliversOnceBack()
    {
        await using var app = new ManagerApp().With("Delivery:MaxAge", "00:00:02");
        await app.InitializeAsync();
        var corp = new TestCorp();
        var puppet = await corp.RegisterPuppetAsync(app.Client, app.Puppets);
        puppet.Failing = true;
        var callback = corp.Callback(puppet.KfId, syncToken: "too-late");

        await app.Client.PostAsync(callback.Path, callback.Content(), Ct);

        var letter = await Eventually.WaitForAsync<JsonElement>(async () =>
        {
            var dead = await app.Client.GetFromJsonAsync<List<JsonElement>>("/operator/dead-letters", Ct);
            return dead!.FirstOrDefault() is { ValueKind: JsonValueKind.Object } found ? found : (JsonElement?)null;
        });
        var reason = letter.GetProperty("reason").GetString();
        Assert.StartsWith("gave up after", reason);
        Assert.Contains("HTTP 500", reason);
        Assert.True(letter.GetProperty("attempts").GetInt32() >= 1);

        puppet.Failing = false;
        using var replay = await app.Client.PostAsync("/operator/dead-letters/replay", null, Ct);
        Assert.Equal(1, (await replay.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("replayed").GetInt32());
        Assert.Equal("too-late", (await puppet.NextAsync()).Token);
    }

    [Fact]
    public async Task Shutdown_LetsAnInFlightDeliveryFinish()
    {
        // A grace well above the puppet's 0.8 s, so a loaded machine cannot turn this into the other test.
        await using var app = new ManagerApp().With("Delivery:ShutdownGrace", "00:00:05");
        await app.InitializeAsync();
        var corp = new TestCorp();
        var puppet = await corp.RegisterPuppetAsync(app.Client, app.Puppets);
        puppet.Delay = TimeSpan.FromMilliseconds(800);
        var callback = corp.Callback(puppet.KfId, syncToken: "finishes-during-shutdown");
        await app.Client.PostAsync(callback.Path, callback.Content(), Ct);
        await Eventually.WaitForAsync<bool>(() => Task.FromResult(puppet.Attempts > 0 ? (bool?)true : null));

        await app.DisposeAsync();

        Assert.Equal("finishes-during-shutdown", (await puppet.NextAsync(TimeSpan.FromSeconds(1))).Token);
        Assert.Equal(new DeliveryQueueStats(0, 0, 0, 1, null), await QueueStatsAsync(app.DataDirectory));
    }

    [Fact]
    public async Task Shutdown_LeavesWhatCannotFinish_Queued_ForTheNextStart()
    {
        await using var puppets = await PuppetStub.StartAsync();
        var corp = new TestCorp();
        var puppet = puppets.Add(TestCorp.NewKfId(), corp.CorpId, corp.Token, corp.EncodingAesKey);
        puppet.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        string dataDirectory;
        await using (var first = new ManagerApp())
        {
            await first.InitializeAsync();
            dataDirectory = first.DataDirectory;
            (await first.Client.PostAsJsonAsync("/puppetWxkfManager/register", corp.Registration(puppet.KfId, puppet.Endpoint), Ct)).EnsureSuccessStatusCode();
            var callback = corp.Callback(puppet.KfId, syncToken: "outlives-the-process");
            await first.Client.PostAsync(callback.Path, callback.Content(), Ct);
            await Eventually.WaitForAsync<bool>(() => Task.FromResult(puppet.Attempts > 0 ? (bool?)true : null));
        }
        // Interrupted by the shutdown: back in the queue, unleased, for whoever starts next.
        var stats = await QueueStatsAsync(dataDirectory);
        Assert.Equal((1, 0, 0, 0), (stats.Pending, stats.Leased, stats.Dead, stats.Delivered));

        puppet.Gate.SetResult();
        await using var second = new ManagerApp { DataDirectory = dataDirectory };
        await second.InitializeAsync();

        var received = await puppet.NextAsync(TimeSpan.FromSeconds(15));
        Assert.Equal("outlives-the-process", received.Token);
    }

    private static Task<DeliveryQueueStats> QueueStatsAsync(string dataDirectory)
    {
        var store = new SqliteDeliveryStore(new SqliteDatabase(Options.Create(new StorageOptions { DataDirectory = dataDirectory })));
        return store.GetStatsAsync(DateTime.UtcNow, Ct);
    }
}
