using System.Net.Http.Headers;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.DependencyInjection;
using WxkfManager.OperatorConsole;

namespace WxkfManager.Tests.OperatorConsole;

public sealed class ConsoleAppWithKey : ManagerApp
{
    public const string Key = "operator-key-for-console-tests-0123";

    public ConsoleAppWithKey() => With("MANAGER_OPERATOR_KEY", Key);

    /// <summary>A client that shows redirects and cookies as they are, instead of following and storing them.</summary>
    public HttpClient RawClient() => new(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = Client.BaseAddress };

    public HttpClient Operator()
    {
        var client = new HttpClient { BaseAddress = Client.BaseAddress };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Key);
        return client;
    }

    /// <summary>Signs in through the form and answers the session cookie ("name=value").</summary>
    public async Task<string> SignInAsync(string key = Key)
    {
        using var client = RawClient();
        using var response = await client.PostAsync("/console/login", new FormUrlEncodedContent([new("key", key)]));
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var cookie = response.Headers.TryGetValues("Set-Cookie", out var values) ? values.Single() : null;
        return cookie?.Split(';')[0] ?? "";
    }
}

public sealed class ConsoleApiTests : IClassFixture<ConsoleAppWithKey>
{
    private readonly ConsoleAppWithKey app;

    public ConsoleApiTests(ConsoleAppWithKey app)
    {
        this.app = app;
        // Registration needs the key too (the puppet's key, today the same one).
        app.Client.DefaultRequestHeaders.Authorization ??= new AuthenticationHeaderValue("Bearer", ConsoleAppWithKey.Key);
    }

    private static HttpRequestMessage WithCookie(HttpMethod method, string path, string cookie, bool consoleHeader = true)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Add("Cookie", cookie);
        if (consoleHeader)
        {
            request.Headers.Add(ConsoleAuthentication.RequestHeader, "1");
        }
        return request;
    }

    [Fact]
    public async Task TheConsolesSchemeIsNoDefault_SoCallbacksAndApisRunNoAuthenticationHandler()
    {
        var schemes = app.Services.GetRequiredService<IAuthenticationSchemeProvider>();

        Assert.Null(await schemes.GetDefaultAuthenticateSchemeAsync());
        Assert.NotNull(await schemes.GetSchemeAsync(ConsoleAuthentication.Scheme));
    }

    [Fact]
    public async Task Pages_WithoutASession_RedirectToSignIn_AndTheirJsonAnswers401()
    {
        using var client = app.RawClient();

        using var page = await client.GetAsync("/console/fleet", Ct);
        using var json = await client.GetAsync("/console/api/fleet", Ct);
        using var bearer = new HttpRequestMessage(HttpMethod.Get, "/console/api/fleet");
        bearer.Headers.Authorization = new AuthenticationHeaderValue("Bearer", ConsoleAppWithKey.Key);
        using var withBearer = await client.SendAsync(bearer, Ct);

        Assert.Equal(HttpStatusCode.Redirect, page.StatusCode);
        Assert.Equal("/console/login", page.Headers.Location?.ToString());
        Assert.Equal(HttpStatusCode.Unauthorized, json.StatusCode);
        // The console's JSON is for the session cookie only; scripts with the key use /operator.
        Assert.Equal(HttpStatusCode.Unauthorized, withBearer.StatusCode);
    }

    [Fact]
    public async Task SignIn_WithTheRightKey_SetsAnHttpOnlySameSiteStrictCookie_ThatOpensThePages()
    {
        using var client = app.RawClient();
        using var response = await client.PostAsync("/console/login", new FormUrlEncodedContent([new("key", ConsoleAppWithKey.Key)]), Ct);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/console/fleet", response.Headers.Location?.ToString());
        var setCookie = Assert.Single(response.Headers.GetValues("Set-Cookie"));
        Assert.StartsWith(ConsoleAuthentication.CookieName + "=", setCookie);
        Assert.Contains("httponly", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("path=/console", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(ConsoleAppWithKey.Key, setCookie);

        var cookie = setCookie.Split(';')[0];
        using var page = await client.SendAsync(WithCookie(HttpMethod.Get, "/console/fleet", cookie), Ct);
        using var session = await client.SendAsync(WithCookie(HttpMethod.Get, "/console/api/session", cookie), Ct);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("default-src 'self'", page.Headers.GetValues("Content-Security-Policy").Single());
        Assert.Contains("<title>", await page.Content.ReadAsStringAsync(Ct));
        var view = await session.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.True(view.GetProperty("keyRequired").GetBoolean());
        Assert.Equal(JsonValueKind.Null, view.GetProperty("warning").ValueKind);
    }

    [Fact]
    public async Task SignIn_WithAWrongKey_SetsNoCookie_AndSaysSo()
    {
        using var client = app.RawClient();
        using var response = await client.PostAsync("/console/login", new FormUrlEncodedContent([new("key", "wrong-key-wrong-key-wrong")]), Ct);
        using var empty = await client.PostAsync("/console/login", new FormUrlEncodedContent([]), Ct);

        Assert.Equal("/console/login?failed=1", response.Headers.Location?.ToString());
        Assert.False(response.Headers.Contains("Set-Cookie"));
        Assert.Equal("/console/login?failed=1", empty.Headers.Location?.ToString());
        Assert.False(empty.Headers.Contains("Set-Cookie"));
    }

    [Fact]
    public async Task ConsoleWrites_WithoutTheConsoleHeader_AreRefused()
    {
        var cookie = await app.SignInAsync();
        using var client = app.RawClient();

        using var refused = await client.SendAsync(WithCookie(HttpMethod.Post, "/console/api/dead-letters/replay", cookie, consoleHeader: false), Ct);
        using var accepted = await client.SendAsync(WithCookie(HttpMethod.Post, "/console/api/dead-letters/replay", cookie), Ct);

        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
    }

    [Fact]
    public async Task SignOut_EndsTheSession()
    {
        using var client = app.RawClient();
        using var signOut = await client.SendAsync(WithCookie(HttpMethod.Post, "/console/logout", await app.SignInAsync()), Ct);

        var cleared = Assert.Single(signOut.Headers.GetValues("Set-Cookie"));
        Assert.Contains("expires=Thu, 01 Jan 1970", cleared, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task TestEvent_ReachesThePuppet_VerifiedWithItsOwnCredentials_AndAnswersTheOutcome()
    {
        var corp = new TestCorp();
        var puppet = await corp.RegisterPuppetAsync(app.Client, app.Puppets);
        using var client = app.Operator();

        using var response = await client.PostAsync($"/operator/puppets/{puppet.KfId}/test-event", null, Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var outcome = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.True(outcome.GetProperty("test").GetBoolean());
        Assert.Equal("delivered", outcome.GetProperty("state").GetString());
        Assert.True(outcome.GetProperty("delivered").GetBoolean());
        Assert.Equal(1, outcome.GetProperty("attempts").GetInt32());
        Assert.Equal("Queued", outcome.GetProperty("intake").GetString());
        var received = await puppet.NextAsync();
        Assert.Equal(outcome.GetProperty("syncToken").GetString(), received.Token);
        Assert.StartsWith(TestEventSimulator.SyncTokenPrefix, received.Token);
        // The same wire form as WeCom's: signed query, encrypted XML body, to the puppet's /callback.
        Assert.EndsWith("/callback", received.Path);
        Assert.Contains("<Encrypt>", received.Body);
        Assert.True(received.Query.ContainsKey("msg_signature"));
    }

    [Fact]
    public async Task TestEvent_ToAPuppetAnsweringErrors_ShowsItsAnswer()
    {
        var corp = new TestCorp();
        var puppet = await corp.RegisterPuppetAsync(app.Client, app.Puppets);
        puppet.Failing = true;
        using var client = app.Operator();

        using var response = await client.PostAsync($"/operator/puppets/{puppet.KfId}/test-event?waitSeconds=1", null, Ct);

        var outcome = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.False(outcome.GetProperty("delivered").GetBoolean());
        Assert.Equal("pending", outcome.GetProperty("state").GetString());
        Assert.Equal("puppet answered HTTP 500", outcome.GetProperty("puppetAnswer").GetString());
        puppet.Failing = false;
        Assert.StartsWith(TestEventSimulator.SyncTokenPrefix, (await puppet.NextAsync()).Token);
    }

    [Fact]
    public async Task TestEvent_ForAnUnknownOrDeregisteredPuppet_OrABadWait_IsRefused()
    {
        var corp = new TestCorp();
        var puppet = await corp.RegisterPuppetAsync(app.Client, app.Puppets);
        (await app.Client.PostAsJsonAsync("/puppetWxkfManager/deregister", new { kfId = puppet.KfId, corpId = corp.CorpId }, Ct)).EnsureSuccessStatusCode();
        using var client = app.Operator();

        using var unknown = await client.PostAsync($"/operator/puppets/{TestCorp.NewKfId()}/test-event", null, Ct);
        using var deregistered = await client.PostAsync($"/operator/puppets/{puppet.KfId}/test-event", null, Ct);
        using var badWait = await client.PostAsync($"/operator/puppets/{puppet.KfId}/test-event?waitSeconds=99", null, Ct);
        using var noKey = await app.RawClient().PostAsync($"/operator/puppets/{puppet.KfId}/test-event", null, Ct);

        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, deregistered.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, badWait.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, noKey.StatusCode);
        Assert.Equal(0, puppet.Attempts);
    }

    [Fact]
    public async Task Fleet_ShowsAnUnreachablePuppet_SinceWhen_AndWhatWaitsForIt()
    {
        var corp = new TestCorp();
        var kfId = TestCorp.NewKfId();
        var down = $"http://127.0.0.1:{StubServer.FreePort()}/p/down";
        (await app.Client.PostAsJsonAsync("/puppetWxkfManager/register", corp.Registration(kfId, down), Ct)).EnsureSuccessStatusCode();
        using var client = app.Operator();
        (await client.PostAsync($"/operator/puppets/{kfId}/test-event?waitSeconds=1", null, Ct)).EnsureSuccessStatusCode();

        var fleet = await client.GetFromJsonAsync<JsonElement>($"/operator/fleet?kfId={kfId}", Ct);
        var byState = await client.GetFromJsonAsync<JsonElement>($"/operator/fleet?corp={corp.CorpId}&state=online", Ct);
        using var badState = await client.GetAsync("/operator/fleet?state=sleeping", Ct);

        var puppet = Assert.Single(fleet.EnumerateArray());
        Assert.Equal(FleetStates.Unreachable, puppet.GetProperty("state").GetString());
        Assert.NotEqual(JsonValueKind.Null, puppet.GetProperty("stateSince").ValueKind);
        Assert.StartsWith("connection failed", puppet.GetProperty("lastError").GetString());
        Assert.Equal(1, puppet.GetProperty("queued").GetInt32());
        Assert.Empty(byState.EnumerateArray());
        Assert.Equal(HttpStatusCode.BadRequest, badState.StatusCode);
        var queue = await client.GetFromJsonAsync<JsonElement>("/operator/queue/overview", Ct);
        Assert.True(queue.GetProperty("queued").GetInt32() >= 1);
    }

    [Fact]
    public async Task Tokens_ShowWhichCorpsHaveAToken_AndWhenItExpires_NeverTheToken()
    {
        var corp = new TestCorp();
        var kfId = TestCorp.NewKfId();
        var secret = "right-secret-" + Guid.NewGuid().ToString("N");
        var registration = new { kfId, kfName = "tokens", endpoint = "http://127.0.0.1:9/p", corpId = corp.CorpId, corpSecret = secret, token = corp.Token, encodingAESKey = corp.EncodingAesKey };
        (await app.Client.PostAsJsonAsync("/puppetWxkfManager/register", registration, Ct)).EnsureSuccessStatusCode();
        var token = await app.Client.GetFromJsonAsync<JsonElement>($"/puppetWxkfManager/getToken?corpid={corp.CorpId}&corpsecret={secret}", Ct);
        using var client = app.Operator();

        var text = await client.GetStringAsync("/operator/tokens", Ct);

        var view = JsonDocument.Parse(text).RootElement.EnumerateArray().Single(c => c.GetProperty("corpId").GetString() == corp.CorpId);
        Assert.True(view.GetProperty("cached").GetBoolean());
        Assert.InRange(view.GetProperty("expiresInSeconds").GetDouble(), 60, 7200);
        Assert.DoesNotContain(token.GetProperty("access_token").GetString()!, text);
        Assert.DoesNotContain(secret, text);
    }

    [Fact]
    public async Task Live_AnswersRatesOverTheLastMinutes()
    {
        using var client = app.Operator();

        var live = await client.GetFromJsonAsync<JsonElement>("/operator/live", Ct);

        Assert.Equal(2, live.GetProperty("intervalSeconds").GetDouble());
        Assert.Equal(JsonValueKind.Array, live.GetProperty("points").ValueKind);
    }
}

public sealed class ConsoleWithoutKeyTests
{
    [Fact]
    public async Task WithoutAnOperatorKey_TheConsoleIsOpen_AsOperatorIs_AndSaysSo()
    {
        await using var app = new ManagerApp();
        await app.InitializeAsync();
        using var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = app.Client.BaseAddress };

        using var page = await client.GetAsync("/console/queue", Ct);
        using var login = await client.GetAsync("/console/login", Ct);
        var session = await client.GetFromJsonAsync<JsonElement>("/console/api/session", Ct);

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("/console/fleet", login.Headers.Location?.ToString());
        Assert.False(session.GetProperty("keyRequired").GetBoolean());
        Assert.Contains("open to anyone", session.GetProperty("warning").GetString());
    }
}
