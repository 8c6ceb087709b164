namespace WxkfManager.Tests.Apis;

/// <summary>A manager with tiny caps, so a few registrations reach them.</summary>
public sealed class CappedManagerApp : ManagerApp
{
    public CappedManagerApp() => With("Registration:MaxPuppets", "3").With("Registration:MaxPuppetsPerCorp", "2");
}

/// <summary>Caps on the fleet and on each corp, so a leaked key cannot register without end.</summary>
public sealed class RegistrationCapsTests(CappedManagerApp app) : IClassFixture<CappedManagerApp>
{
    [Fact]
    public async Task Caps_RefuseNewKfIdsWith409AndTheReason_ButNeverARegisteredPuppetRegisteringAgain()
    {
        var corp = new TestCorp();
        var first = await RegisterAsync(corp, TestCorp.NewKfId());
        var second = await RegisterAsync(corp, TestCorp.NewKfId());

        var overCorp = await RegisterAsync(corp, TestCorp.NewKfId());
        var again = await RegisterAsync(corp, first.KfId);
        var otherCorp = new TestCorp();
        var third = await RegisterAsync(otherCorp, TestCorp.NewKfId());
        var overFleet = await RegisterAsync(otherCorp, TestCorp.NewKfId());

        Assert.Equal(HttpStatusCode.OK, first.Status);
        Assert.Equal(HttpStatusCode.OK, second.Status);
        Assert.Equal(HttpStatusCode.Conflict, overCorp.Status);
        Assert.Contains("Registration__MaxPuppetsPerCorp", overCorp.Message);
        Assert.Equal(409, overCorp.Code);
        Assert.Equal(HttpStatusCode.OK, again.Status);
        Assert.Equal(HttpStatusCode.OK, third.Status);
        Assert.Equal(HttpStatusCode.Conflict, overFleet.Status);
        Assert.Contains("limit of 3 puppets (Registration__MaxPuppets)", overFleet.Message);
        var metrics = await app.Client.GetStringAsync("/metrics", Ct);
        Assert.Contains("wxkf_registrations_refused_total{reason=\"cap\"} 2", metrics);
    }

    private async Task<(HttpStatusCode Status, int Code, string Message, string KfId)> RegisterAsync(TestCorp corp, string kfId)
    {
        var puppet = app.Puppets.Add(kfId, corp.CorpId, corp.Token, corp.EncodingAesKey);
        using var response = await app.Client.PostAsJsonAsync("/puppetWxkfManager/register", corp.Registration(kfId, puppet.Endpoint), Ct);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        return (response.StatusCode, body.GetProperty("code").GetInt32(), body.GetProperty("message").GetString()!, kfId);
    }
}
