using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using WxkfManager.Tests.Infrastructure;

namespace WxkfManager.IntegrationTests;

/// <summary>The whole service over real HTTP with MONGO_URI set: what runs on SQLite elsewhere, on MongoDB.</summary>
public sealed class MongoApiTests(MongoFixture fixture) : IClassFixture<MongoFixture>
{
    [Fact]
    public async Task RegisterCallbackAndDeregister_WorkOnMongo()
    {
        var uri = fixture.NewDatabaseUri();
        await using var app = new ManagerApp().With("MONGO_URI", uri);
        await app.InitializeAsync();
        var corp = new TestCorp();

        var puppet = await corp.RegisterPuppetAsync(app.Client, app.Puppets);
        var callback = corp.Callback(puppet.KfId, syncToken: "on-mongo");
        using var response = await app.Client.PostAsync(callback.Path, callback.Content(), Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("on-mongo", (await puppet.NextAsync()).Token);
        var ready = await app.Client.GetFromJsonAsync<JsonElement>("/ready", Ct);
        Assert.Equal("mongodb", ready.GetProperty("store").GetString());
        (await app.Client.PostAsJsonAsync("/puppetWxkfManager/deregister", new { kfId = puppet.KfId, corpId = corp.CorpId }, Ct)).EnsureSuccessStatusCode();
        var info = await app.Client.GetFromJsonAsync<JsonElement>($"/puppetWxkfManager/puppetWxkfInfo/{puppet.KfId}", Ct);
        Assert.False(info.GetProperty("online").GetBoolean());
    }

    [Fact]
    public async Task Registrations_SurviveARestart_OnMongo()
    {
        var uri = fixture.NewDatabaseUri();
        var corp = new TestCorp();
        var kfId = TestCorp.NewKfId();
        await using (var first = new ManagerApp().With("MONGO_URI", uri))
        {
            await first.InitializeAsync();
            (await first.Client.PostAsJsonAsync("/puppetWxkfManager/register", corp.Registration(kfId, "http://10.0.0.5:8080"), Ct)).EnsureSuccessStatusCode();
        }

        await using var second = new ManagerApp().With("MONGO_URI", uri);
        await second.InitializeAsync();

        var info = await second.Client.GetFromJsonAsync<JsonElement>($"/puppetWxkfManager/puppetWxkfInfo/{kfId}", Ct);
        Assert.Equal(corp.CorpId, info.GetProperty("corpId").GetString());
    }

    [Fact]
    public async Task TwoReplicasOnOneMongo_Converge()
    {
        var uri = fixture.NewDatabaseUri();
        await using var first = new ManagerApp().With("MONGO_URI", uri).With("Storage:RegistryRefreshInterval", "00:00:01");
        await first.InitializeAsync();
        await using var second = new ManagerApp().With("MONGO_URI", uri).With("Storage:RegistryRefreshInterval", "00:00:01");
        await second.InitializeAsync();

        await ReplicaScenario.RunAsync(first, second, Ct);
    }

    [Fact]
    public async Task TwoReplicasOnOneMongo_ShareOneAccessToken()
    {
        var uri = fixture.NewDatabaseUri();
        await using var first = new ManagerApp().With("MONGO_URI", uri);
        await first.InitializeAsync();
        await using var second = new ManagerApp().With("MONGO_URI", uri).With("ACCESS_TOKEN_URL", first.WeCom.TokenUrl);
        await second.InitializeAsync();

        await SharedTokenScenario.RunAsync(first, second, Ct);
    }
}
