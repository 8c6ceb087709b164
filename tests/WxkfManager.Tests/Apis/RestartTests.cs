using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using WxkfManager.Tests.Infrastructure;

namespace WxkfManager.Tests.Apis;

public sealed class RestartTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Registrations_SurviveARestart_AndCallbacksStillRoute()
    {
        await using var puppets = await PuppetStub.StartAsync();
        var corp = new TestCorp();
        var online = puppets.Add(TestCorp.NewKfId(), corp.CorpId, corp.Token, corp.EncodingAesKey);
        var gone = puppets.Add(TestCorp.NewKfId(), corp.CorpId, corp.Token, corp.EncodingAesKey);
        string dataDirectory;

        await using (var first = new ManagerApp())
        {
            await first.InitializeAsync();
            dataDirectory = first.DataDirectory;
            (await first.Client.PostAsJsonAsync("/puppetWxkfManager/register", corp.Registration(online.KfId, online.Endpoint), Ct)).EnsureSuccessStatusCode();
            (await first.Client.PostAsJsonAsync("/puppetWxkfManager/register", corp.Registration(gone.KfId, gone.Endpoint), Ct)).EnsureSuccessStatusCode();
            (await first.Client.PostAsJsonAsync("/puppetWxkfManager/deregister", new { kfId = gone.KfId, corpId = corp.CorpId }, Ct)).EnsureSuccessStatusCode();
        }

        await using var second = new ManagerApp { DataDirectory = dataDirectory };
        await second.InitializeAsync();

        var info = await second.Client.GetFromJsonAsync<JsonElement>($"/puppetWxkfManager/puppetWxkfInfo/{online.KfId}", Ct);
        Assert.True(info.GetProperty("online").GetBoolean());
        var goneInfo = await second.Client.GetFromJsonAsync<JsonElement>($"/puppetWxkfManager/puppetWxkfInfo/{gone.KfId}", Ct);
        Assert.False(goneInfo.GetProperty("online").GetBoolean());
        Assert.Equal(JsonValueKind.String, goneInfo.GetProperty("lastOnlineDate").ValueKind);

        var callback = corp.Callback(online.KfId, syncToken: "after-restart");
        using var response = await second.Client.PostAsync(callback.Path, callback.Content(), Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("after-restart", (await online.NextAsync()).Token);
    }
}
