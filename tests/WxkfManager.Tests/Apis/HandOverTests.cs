namespace WxkfManager.Tests.Apis;

/// <summary>A manager that settles ambiguous deregisters quickly, so the tests wait fractions of a second.</summary>
public sealed class HandOverApp : ManagerApp
{
    public HandOverApp() => With("Registration:HandOverProbeDelay", "00:00:00.200").With("Registration:HandOverProbeTimeout", "00:00:00.500");
}

/// <summary>
/// Rolling restarts over real HTTP: the new instance of a puppet registers, then the old one deregisters
/// the same kfId. Instances on other hosts connect from other loopback addresses (127.0.0.2).
/// </summary>
public sealed class HandOverTests(HandOverApp app) : IClassFixture<HandOverApp>
{
    private HttpClient FirstHost => app.Client;

    [Fact]
    public async Task NewInstanceAtANewEndpoint_OnAnotherHost_KeepsTheEvents_WhenTheOldOneDeregisters()
    {
        var corp = new TestCorp();
        var kfId = TestCorp.NewKfId();
        using var secondHost = LoopbackClient.From("127.0.0.2", FirstHost.BaseAddress!);
        var old = await RegisterAsync(FirstHost, corp, kfId);
        var replacement = await RegisterAsync(secondHost, corp, kfId);

        await DeregisterAsync(FirstHost, corp, kfId);

        Assert.True(await IsOnlineAsync(kfId));
        await SendAsync(corp, kfId, "after-hand-over");
        Assert.Equal("after-hand-over", (await replacement.NextAsync()).Token);
        Assert.Equal(0, old.Received);
    }

    [Fact]
    public async Task NewInstanceAtTheSameEndpoint_OnAnotherHost_KeepsTheEvents_WhenTheOldOneDeregisters()
    {
        var corp = new TestCorp();
        var puppet = app.Puppets.Add(TestCorp.NewKfId(), corp.CorpId, corp.Token, corp.EncodingAesKey);
        using var secondHost = LoopbackClient.From("127.0.0.2", FirstHost.BaseAddress!);
        await PostRegistrationAsync(FirstHost, corp, puppet);
        await PostRegistrationAsync(secondHost, corp, puppet);

        await DeregisterAsync(FirstHost, corp, puppet.KfId);

        Assert.True(await IsOnlineAsync(puppet.KfId));
        await SendAsync(corp, puppet.KfId, "behind-one-service-name");
        Assert.Equal("behind-one-service-name", (await puppet.NextAsync()).Token);
    }

    [Fact]
    public async Task NewInstanceAtANewEndpoint_OnTheSameHost_KeepsTheEvents_WhileItAnswers()
    {
        var corp = new TestCorp();
        var kfId = TestCorp.NewKfId();
        var old = await RegisterAsync(FirstHost, corp, kfId);
        var replacement = await RegisterAsync(FirstHost, corp, kfId);

        await DeregisterAsync(FirstHost, corp, kfId);
        // The manager checks the newest endpoint after its short settle delay; it answers, so nothing changes.
        await Task.Delay(TimeSpan.FromMilliseconds(800), Ct);

        Assert.True(await IsOnlineAsync(kfId));
        await SendAsync(corp, kfId, "same-host-hand-over");
        Assert.Equal("same-host-hand-over", (await replacement.NextAsync()).Token);
        Assert.Equal(0, old.Received);
    }

    [Fact]
    public async Task NewestInstanceDeregistering_OnAHostWithAnOlderEndpoint_GoesOffline_OnceItStopsAnswering()
    {
        var corp = new TestCorp();
        var kfId = TestCorp.NewKfId();
        await RegisterAsync(FirstHost, corp, kfId);
        var stopping = await PuppetStub.StartAsync();
        var newest = stopping.Add(kfId, corp.CorpId, corp.Token, corp.EncodingAesKey);
        await PostRegistrationAsync(FirstHost, corp, newest);

        await DeregisterAsync(FirstHost, corp, kfId);
        await stopping.DisposeAsync();

        Assert.False(await Eventually.WaitForAsync<bool>(async () => await IsOnlineAsync(kfId) ? null : false, TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task PlainDeregister_OfTheNewestInstance_StopsDelivery_AtOnce()
    {
        var corp = new TestCorp();
        var kfId = TestCorp.NewKfId();
        using var secondHost = LoopbackClient.From("127.0.0.2", FirstHost.BaseAddress!);
        await RegisterAsync(FirstHost, corp, kfId);
        var replacement = await RegisterAsync(secondHost, corp, kfId);
        await DeregisterAsync(FirstHost, corp, kfId);

        // The rolling restart is over; now the replacement stops for good.
        await DeregisterAsync(secondHost, corp, kfId);

        Assert.False(await IsOnlineAsync(kfId));
        await SendAsync(corp, kfId, "nobody-home");
        var letter = await Eventually.WaitForAsync<JsonElement>(async () =>
        {
            var dead = await FirstHost.GetFromJsonAsync<List<JsonElement>>("/operator/dead-letters?limit=1000", Ct);
            return dead!.FirstOrDefault(d => d.GetProperty("kfId").GetString() == kfId) is { ValueKind: JsonValueKind.Object } found ? found : null;
        });
        Assert.Equal("puppet is deregistered", letter.GetProperty("reason").GetString());
        Assert.True(await replacement.NothingArrivesAsync(TimeSpan.FromMilliseconds(300)));
    }

    [Fact]
    public async Task RestartInPlace_RegisteringAgainWithoutDeregistering_ThenDeregister_GoesOffline()
    {
        var corp = new TestCorp();
        var puppet = app.Puppets.Add(TestCorp.NewKfId(), corp.CorpId, corp.Token, corp.EncodingAesKey);
        await PostRegistrationAsync(FirstHost, corp, puppet);
        await PostRegistrationAsync(FirstHost, corp, puppet);

        await DeregisterAsync(FirstHost, corp, puppet.KfId);

        Assert.False(await IsOnlineAsync(puppet.KfId));
    }

    private async Task<PuppetStub.Puppet> RegisterAsync(HttpClient from, TestCorp corp, string kfId)
    {
        var puppet = app.Puppets.Add(kfId, corp.CorpId, corp.Token, corp.EncodingAesKey);
        await PostRegistrationAsync(from, corp, puppet);
        return puppet;
    }

    private static async Task PostRegistrationAsync(HttpClient from, TestCorp corp, PuppetStub.Puppet puppet)
    {
        using var response = await from.PostAsJsonAsync("/puppetWxkfManager/register", corp.Registration(puppet.KfId, puppet.Endpoint), Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private static async Task DeregisterAsync(HttpClient from, TestCorp corp, string kfId)
    {
        using var response = await from.PostAsJsonAsync("/puppetWxkfManager/deregister", new { kfId, corpId = corp.CorpId }, Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("""{"code":0,"message":"success"}""", await response.Content.ReadAsStringAsync(Ct));
    }

    private async Task<bool> IsOnlineAsync(string kfId) =>
        (await FirstHost.GetFromJsonAsync<JsonElement>($"/puppetWxkfManager/puppetWxkfInfo/{kfId}", Ct)).GetProperty("online").GetBoolean();

    private async Task SendAsync(TestCorp corp, string kfId, string syncToken)
    {
        var callback = corp.Callback(kfId, syncToken);
        using var response = await FirstHost.PostAsync(callback.Path, callback.Content(), Ct);
        Assert.Equal("success", await response.Content.ReadAsStringAsync(Ct));
    }
}
