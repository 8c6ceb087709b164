using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using WxkfManager.Delivery;

namespace WxkfManager.Tests.Delivery;

/// <summary>
/// A puppet on a fixed loopback port that can go down and come back, as a restarting process does; each
/// scenario starts after earlier failures of the same puppet, so it measures recovery with a history.
/// </summary>
public sealed class RestartingPuppet(HttpClient manager, TestCorp corp) : IAsyncDisposable
{
    private readonly int _port = StubServer.FreePort();
    private PuppetStub? _stub;

    public string KfId { get; } = TestCorp.NewKfId();

    public string Endpoint => $"http://127.0.0.1:{_port}/p/restarting";

    public PuppetStub.Puppet? Current { get; private set; }

    public async Task RegisterAsync()
    {
        using var response = await manager.PostAsJsonAsync("/puppetWxkfManager/register", corp.Registration(KfId, Endpoint), Ct);
        response.EnsureSuccessStatusCode();
    }

    /// <summary>Starts listening; returns when connections are accepted.</summary>
    public async Task<PuppetStub.Puppet> UpAsync()
    {
        _stub = await PuppetStub.StartAsync(_port);
        Current = _stub.Add(KfId, corp.CorpId, corp.Token, corp.EncodingAesKey, name: "restarting");
        return Current;
    }

    public async Task DownAsync()
    {
        if (_stub is not null)
        {
            await _stub.DisposeAsync();
            _stub = null;
        }
    }

    public async Task SendAsync(string syncToken)
    {
        var callback = corp.Callback(KfId, syncToken);
        using var response = await manager.PostAsync(callback.Path, callback.Content(), Ct);
        Assert.Equal("success", await response.Content.ReadAsStringAsync(Ct));
    }

    /// <summary>An earlier outage, fully recovered from: the history every scenario starts with.</summary>
    public async Task HadABlipAsync()
    {
        await SendAsync("before-blip");
        await Task.Delay(TimeSpan.FromSeconds(1.5), Ct);
        var puppet = await UpAsync();
        Assert.Equal("before-blip", (await puppet.NextAsync(TimeSpan.FromSeconds(10))).Token);
    }

    public ValueTask DisposeAsync() => new(DownAsync());
}

/// <summary>Outages of seconds cost about a second after they end.</summary>
public sealed class ShortOutageRecoveryTests(ManagerApp app) : IClassFixture<ManagerApp>
{
    [Fact]
    public async Task PuppetDownThreeSeconds_AfterEarlierFailures_GetsItsEventWithinASecondAndAHalfOfReturning()
    {
        await using var puppet = new RestartingPuppet(app.Client, new TestCorp());
        await puppet.RegisterAsync();
        await puppet.HadABlipAsync();
        await puppet.DownAsync();

        await puppet.SendAsync("during-outage");
        await Task.Delay(TimeSpan.FromSeconds(3), Ct);
        var back = Stopwatch.StartNew();
        var stub = await puppet.UpAsync();

        Assert.Equal("during-outage", (await stub.NextAsync(TimeSpan.FromSeconds(15))).Token);
        Assert.InRange(back.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(1.5));
        Assert.True(await stub.NothingArrivesAsync(TimeSpan.FromMilliseconds(500)));
    }

    [Fact]
    public async Task PuppetAnswering503ForThreeSeconds_IsRetriedDuringTheOutage_AndDeliveredWithinASecondAndAHalfAfter()
    {
        await using var puppet = new RestartingPuppet(app.Client, new TestCorp());
        await puppet.RegisterAsync();
        await puppet.HadABlipAsync();
        var stub = puppet.Current!;
        stub.FailureStatus = 503;
        stub.Failing = true;
        var attemptsBefore = stub.Attempts;

        await puppet.SendAsync("behind-a-503");
        await Task.Delay(TimeSpan.FromSeconds(3), Ct);
        Assert.True(stub.Attempts - attemptsBefore >= 2, $"only {stub.Attempts - attemptsBefore} attempts during the outage");
        var back = Stopwatch.StartNew();
        stub.Failing = false;

        Assert.Equal("behind-a-503", (await stub.NextAsync(TimeSpan.FromSeconds(15))).Token);
        Assert.InRange(back.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(1.5));
        Assert.Single(stub.Tokens, t => t == "behind-a-503");
    }
}

/// <summary>A long outage: the backlog follows within the probe interval's cap of the return.</summary>
public sealed class LongOutageRecoveryTests(ManagerApp app) : IClassFixture<ManagerApp>
{
    [Fact]
    public async Task PuppetDownThirtySeconds_AfterEarlierFailures_GetsItsWholeBacklogWithinFiveSecondsOfReturning()
    {
        await using var puppet = new RestartingPuppet(app.Client, new TestCorp());
        await puppet.RegisterAsync();
        await puppet.HadABlipAsync();
        await puppet.DownAsync();

        var tokens = Enumerable.Range(0, 20).Select(i => $"backlog-{i}").ToList();
        foreach (var token in tokens)
        {
            await puppet.SendAsync(token);
            await Task.Delay(TimeSpan.FromSeconds(1.5), Ct);
        }
        var back = Stopwatch.StartNew();
        var stub = await puppet.UpAsync();

        var received = new List<string>();
        while (received.Count < tokens.Count)
        {
            received.Add((await stub.NextAsync(TimeSpan.FromSeconds(15))).Token!);
        }
        Assert.InRange(back.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(5));
        Assert.Equal(tokens.Order(), received.Order());
        Assert.True(await stub.NothingArrivesAsync(TimeSpan.FromMilliseconds(500)));
    }
}

/// <summary>A restarting puppet registers again: its backlog follows the registration at once.</summary>
public sealed class ReregistrationRecoveryTests(ManagerApp app) : IClassFixture<ManagerApp>
{
    [Fact]
    public async Task PuppetDownThirtySeconds_ThenRegisteringAgain_GetsItsBacklogWithinASecondOfTheRegistration()
    {
        await using var puppet = new RestartingPuppet(app.Client, new TestCorp());
        await puppet.RegisterAsync();
        await puppet.HadABlipAsync();
        await puppet.DownAsync();

        var tokens = Enumerable.Range(0, 10).Select(i => $"waiting-{i}").ToList();
        foreach (var token in tokens)
        {
            await puppet.SendAsync(token);
            await Task.Delay(TimeSpan.FromSeconds(3), Ct);
        }
        var stub = await puppet.UpAsync();
        var registered = Stopwatch.StartNew();
        await puppet.RegisterAsync();

        var received = new List<string>();
        while (received.Count < tokens.Count)
        {
            received.Add((await stub.NextAsync(TimeSpan.FromSeconds(15))).Token!);
        }
        Assert.InRange(registered.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(1));
        // Dispatched oldest first; several go out at once, so arrival order may differ slightly.
        Assert.Equal(tokens.Order(), received.Order());
        Assert.True(await stub.NothingArrivesAsync(TimeSpan.FromMilliseconds(500)));
    }
}

/// <summary>A puppet that stays down under steady traffic: the log grows with time, not with traffic.</summary>
public sealed class OutageLoggingTests(ManagerApp app) : IClassFixture<ManagerApp>
{
    [Fact]
    public async Task PuppetDownForAMinute_UnderFiftyEventsASecond_WritesFewerThan200LinesAboutIt_AndNoStackTraces()
    {
        await using var puppet = new RestartingPuppet(app.Client, new TestCorp());
        await puppet.RegisterAsync();
        await puppet.HadABlipAsync();
        await puppet.DownAsync();

        var clock = Stopwatch.StartNew();
        var sent = 0;
        while (clock.Elapsed < TimeSpan.FromMinutes(1))
        {
            var due = (int)(clock.Elapsed.TotalSeconds * 50);
            for (; sent < due; sent++)
            {
                await puppet.SendAsync($"steady-{sent}");
            }
            await Task.Delay(20, Ct);
        }

        var lines = LogFiles.ReadLines(app.LogDirectory);
        // Every accepted callback has its receipt line ("Queued ...") and a request line whatever the puppet does;
        // what the outage adds is the delivery side: failed attempts, dead letters, state changes.
        var aboutThePuppet = lines.Where(l => (l.Contains(puppet.KfId) || l.Contains(puppet.Endpoint)) && !l.Contains("Queued ")).ToList();
        Assert.True(sent >= 2900, $"only {sent} events sent");
        Assert.InRange(aboutThePuppet.Count, 1, 199);
        Assert.DoesNotContain(lines, l => l.TrimStart().StartsWith("at ", StringComparison.Ordinal));
    }
}

/// <summary>The manager restarts while a puppet is down: what the old process put off does not wait out its put-off.</summary>
public sealed class RestartDuringAnOutageTests
{
    [Fact]
    public async Task EventsPutOffBeforeARestart_GoOutAtOnce_WhenThePuppetIsBackByThen()
    {
        var corp = new TestCorp();
        var kfId = TestCorp.NewKfId();
        var port = StubServer.FreePort();
        string dataDirectory;
        await using (var first = new ManagerApp())
        {
            await first.InitializeAsync();
            dataDirectory = first.DataDirectory;
            (await first.Client.PostAsJsonAsync("/puppetWxkfManager/register", corp.Registration(kfId, $"http://127.0.0.1:{port}/p/back"), Ct)).EnsureSuccessStatusCode();
            await Task.Delay(TimeSpan.FromSeconds(0.6), Ct); // past the hold that follows a registration
            await SendAsync(first, corp, kfId, "refused-before-restart");
            // Refused, so unreachable: from then on its events are stored put off, for a lease duration (30 s in these tests).
            var tracker = first.Services.GetRequiredService<DeliveryTracker>();
            var waited = Stopwatch.StartNew();
            while (!tracker.HealthOf(kfId).IsUnreachable)
            {
                Assert.True(waited.Elapsed < TimeSpan.FromSeconds(10), "the puppet did not count as unreachable");
                await Task.Delay(20, Ct);
            }
            await SendAsync(first, corp, kfId, "put-off-before-restart");
        }
        await using var stub = await PuppetStub.StartAsync(port);
        var puppet = stub.Add(kfId, corp.CorpId, corp.Token, corp.EncodingAesKey, name: "back");

        await using var second = new ManagerApp { DataDirectory = dataDirectory };
        await second.InitializeAsync();

        var received = new HashSet<string?> { (await puppet.NextAsync(TimeSpan.FromSeconds(10))).Token, (await puppet.NextAsync(TimeSpan.FromSeconds(10))).Token };
        Assert.Equal(["put-off-before-restart", "refused-before-restart"], received.Order());
    }

    private static async Task SendAsync(ManagerApp app, TestCorp corp, string kfId, string syncToken)
    {
        var callback = corp.Callback(kfId, syncToken);
        using var response = await app.Client.PostAsync(callback.Path, callback.Content(), Ct);
        Assert.Equal("success", await response.Content.ReadAsStringAsync(Ct));
    }
}
