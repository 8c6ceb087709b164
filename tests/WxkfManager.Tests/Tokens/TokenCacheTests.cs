using System.Text;
using Microsoft.Extensions.Time.Testing;

namespace WxkfManager.Tests.Tokens;

/// <summary>getToken against a fake WeCom that counts its gettoken calls. Each test has its own manager and upstream.</summary>
public sealed class TokenCacheTests
{
    private static Task<ManagerApp> StartAsync(params (string Key, string Value)[] settings) => StartAsync(TimeProvider.System, settings);

    private static async Task<ManagerApp> StartAsync(TimeProvider time, params (string Key, string Value)[] settings)
    {
        var app = new ManagerApp().WithTime(time);
        foreach (var (key, value) in settings)
        {
            app.With(key, value);
        }
        await app.InitializeAsync();
        return app;
    }

    private static Task<JsonElement> GetTokenAsync(ManagerApp app, string corpId, string secret = "right-secret", bool refresh = false) =>
        app.Client.GetFromJsonAsync<JsonElement>($"/puppetWxkfManager/getToken?corpid={corpId}&corpsecret={secret}{(refresh ? "&refresh=true" : "")}", Ct);

    [Fact]
    public async Task HundredConcurrentCallers_ForOneCorp_MakeOneUpstreamCall()
    {
        await using var app = await StartAsync();
        app.WeCom.TokenDelay = TimeSpan.FromMilliseconds(300);

        var answers = await Task.WhenAll(Enumerable.Range(0, 100).Select(_ => GetTokenAsync(app, "wwconcurrent")));

        Assert.Equal(1, app.WeCom.TokenCalls);
        Assert.Single(answers.Select(a => a.GetProperty("access_token").GetString()).Distinct());
        Assert.All(answers, a => Assert.Equal(0, a.GetProperty("errcode").GetInt32()));
    }

    [Fact]
    public async Task ACachedToken_IsReused_WithItsRemainingLifetime()
    {
        await using var app = await StartAsync();

        var first = await GetTokenAsync(app, "wwcached");
        var second = await GetTokenAsync(app, "wwcached");

        Assert.Equal(1, app.WeCom.TokenCalls);
        Assert.Equal(first.GetProperty("access_token").GetString(), second.GetProperty("access_token").GetString());
        Assert.InRange(second.GetProperty("expires_in").GetInt32(), 7100, 7200);
        Assert.Equal("ok", second.GetProperty("errmsg").GetString());
    }

    [Fact]
    public async Task Expiry_TriggersExactlyOneRefresh()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var app = await StartAsync(time);
        app.WeCom.ExpiresIn = 4;
        var first = await GetTokenAsync(app, "wwexpiry");

        // Refreshed a quarter of its life before expiry: after 3.2 s of a 4 s token, every caller needs a new one.
        time.Advance(TimeSpan.FromSeconds(3.2));
        var answers = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => GetTokenAsync(app, "wwexpiry")));

        Assert.Equal(2, app.WeCom.TokenCalls);
        var renewed = Assert.Single(answers.Select(a => a.GetProperty("access_token").GetString()).Distinct());
        Assert.NotEqual(first.GetProperty("access_token").GetString(), renewed);
    }

    [Fact]
    public async Task WeComErrors_PassThroughUnchanged_AndAreNeverCached()
    {
        await using var app = await StartAsync();

        var first = await app.Client.GetStringAsync("/puppetWxkfManager/getToken?corpid=wwerr&corpsecret=wrong", Ct);
        var second = await app.Client.GetStringAsync("/puppetWxkfManager/getToken?corpid=wwerr&corpsecret=wrong", Ct);

        Assert.Equal("{\"errcode\":40001,\"errmsg\":\"invalid credential, hint: [1700000000_1]\"}", first);
        Assert.Equal(first, second);
        Assert.Equal(2, app.WeCom.TokenCalls);
    }

    [Fact]
    public async Task ForcedRefresh_FetchesANewToken_ButNotTwiceInAMoment()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var app = await StartAsync(time, ("WeCom:ForcedRefreshMinInterval", "00:00:01"));
        await GetTokenAsync(app, "wwforce");

        await GetTokenAsync(app, "wwforce", refresh: true);
        Assert.Equal(1, app.WeCom.TokenCalls);

        time.Advance(TimeSpan.FromSeconds(1.2));
        await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => GetTokenAsync(app, "wwforce", refresh: true)));
        Assert.Equal(2, app.WeCom.TokenCalls);
    }

    [Fact]
    public async Task ACorpSecretOtherThanTheRegisteredPuppets_IsRefused_WithoutAskingWeCom()
    {
        await using var app = await StartAsync();
        var corp = new TestCorp();
        var registration = JsonSerializer.SerializeToNode(corp.Registration(TestCorp.NewKfId(), "http://10.0.0.5:8080"))!.AsObject();
        registration["corpSecret"] = "right-secret-of-this-corp";
        (await app.Client.PostAsJsonAsync("/puppetWxkfManager/register", registration, Ct)).EnsureSuccessStatusCode();

        using var wrong = await app.Client.GetAsync($"/puppetWxkfManager/getToken?corpid={corp.CorpId}&corpsecret=right-secret-guessed", Ct);
        var right = await GetTokenAsync(app, corp.CorpId, "right-secret-of-this-corp");

        Assert.Equal(HttpStatusCode.Forbidden, wrong.StatusCode);
        Assert.Equal(40001, (await wrong.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("errcode").GetInt32());
        Assert.Equal(0, right.GetProperty("errcode").GetInt32());
        Assert.Equal(1, app.WeCom.TokenCalls);
    }

    [Fact]
    public async Task TheCache_SurvivesARestart_AndIsKeyedByAHashOfTheSecret()
    {
        string dataDirectory;
        string token;
        await using (var first = await StartAsync())
        {
            dataDirectory = first.DataDirectory;
            token = (await GetTokenAsync(first, "wwrestart", "right-secret-kept-out-of-the-key")).GetProperty("access_token").GetString()!;
        }

        await using var second = new ManagerApp { DataDirectory = dataDirectory };
        await second.InitializeAsync();
        var again = await GetTokenAsync(second, "wwrestart", "right-secret-kept-out-of-the-key");

        Assert.Equal(token, again.GetProperty("access_token").GetString());
        Assert.Equal(0, second.WeCom.TokenCalls);
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Assert.DoesNotContain(Directory.GetFiles(dataDirectory), f => Encoding.UTF8.GetString(File.ReadAllBytes(f)).Contains("right-secret-kept-out-of-the-key"));
    }

    [Fact]
    public async Task Proxy_OnAnExpiredTokenWeIssued_RefreshesOnce_AndCallsAgain()
    {
        await using var app = await StartAsync();
        var stale = (await GetTokenAsync(app, "wwproxy")).GetProperty("access_token").GetString()!;
        app.WeCom.Revoke(stale);

        using var response = await app.Client.PostAsync($"/puppetWxkfManager/wxkfRequestProxy/kf/send_msg?access_token={stale}",
            new StringContent("{\"touser\":\"wm1\",\"msgtype\":\"text\"}", Encoding.UTF8, "application/json"), Ct);
        var answer = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);

        Assert.Equal(0, answer.GetProperty("errcode").GetInt32());
        Assert.NotEqual(stale, answer.GetProperty("used").GetString());
        Assert.Equal("{\"touser\":\"wm1\",\"msgtype\":\"text\"}", answer.GetProperty("body").GetString());
        Assert.Equal(2, app.WeCom.TokenCalls);
        // The puppet's next getToken gets the fresh token without another upstream call.
        Assert.Equal(answer.GetProperty("used").GetString(), (await GetTokenAsync(app, "wwproxy")).GetProperty("access_token").GetString());
        Assert.Equal(2, app.WeCom.TokenCalls);
    }

    [Fact]
    public async Task Proxy_OnAnExpiredTokenWeDidNotIssue_PassesTheErrorThrough()
    {
        await using var app = await StartAsync();
        app.WeCom.Revoke("someone-elses-token");

        var answer = await app.Client.GetFromJsonAsync<JsonElement>("/puppetWxkfManager/wxkfRequestProxy/kf/send_msg?access_token=someone-elses-token", Ct);

        Assert.Equal(42001, answer.GetProperty("errcode").GetInt32());
        Assert.Equal(0, app.WeCom.TokenCalls);
    }
}

public sealed class SharedTokenCacheTests
{
    [Fact]
    public async Task TwoReplicasOnOneStore_MakeOneUpstreamCall()
    {
        await using var first = new ManagerApp();
        await first.InitializeAsync();
        await using var second = new ManagerApp { DataDirectory = first.DataDirectory }.With("ACCESS_TOKEN_URL", first.WeCom.TokenUrl);
        await second.InitializeAsync();

        await SharedTokenScenario.RunAsync(first, second, Ct);
    }
}
