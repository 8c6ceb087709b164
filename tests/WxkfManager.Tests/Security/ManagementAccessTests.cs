using System.Net.Http.Headers;
using System.Text;

namespace WxkfManager.Tests.Security;

public sealed class ManagementAccessTests(KeyedManagerApp app) : IClassFixture<KeyedManagerApp>
{
    public static TheoryData<string, string> ManagementCalls => new()
    {
        { "POST", "/puppetWxkfManager/register" },
        { "POST", "/puppetWxkfManager/deregister" },
        { "GET", "/puppetWxkfManager/getToken?corpid=ww1&corpsecret=right-secret" },
        { "GET", "/puppetWxkfManager/puppetWxkfInfo/wk1" },
        { "GET", "/puppetWxkfManager/wxkfRequestProxy/kf/account/list" },
        { "GET", "/operator/queue" },
        { "GET", "/operator/puppets" },
        { "GET", "/operator/dead-letters" },
        { "POST", "/operator/dead-letters/replay" },
    };

    [Theory]
    [MemberData(nameof(ManagementCalls))]
    public async Task WithoutTheKey_IsUnauthorized_WithAChallenge(string method, string path)
    {
        using var response = await app.Client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path), Ct);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("Basic", response.Headers.WwwAuthenticate.ToString());
        Assert.Contains("key", await response.Content.ReadAsStringAsync(Ct));
    }

    [Theory]
    [InlineData("Bearer", KeyedManagerApp.OperatorKey)]
    [InlineData("Bearer", "wrong-key-wrong-key-wrong")]
    [InlineData("Basic", "operator:" + KeyedManagerApp.OperatorKey)]
    [InlineData("Basic", ":" + KeyedManagerApp.OperatorKey)]
    [InlineData("Basic", "operator:wrong")]
    [InlineData("Basic", KeyedManagerApp.OperatorKey)]
    [InlineData("Digest", KeyedManagerApp.OperatorKey)]
    public async Task TheKey_IsAcceptedAsBearerOrBasicPassword_Only(string scheme, string credential)
    {
        var value = scheme == "Basic" ? Convert.ToBase64String(Encoding.UTF8.GetBytes(credential)) : credential;
        using var request = new HttpRequestMessage(HttpMethod.Get, "/operator/queue");
        request.Headers.Authorization = new AuthenticationHeaderValue(scheme, value);

        using var response = await app.Client.SendAsync(request, Ct);

        var accepted = credential.EndsWith(KeyedManagerApp.OperatorKey, StringComparison.Ordinal) && scheme != "Digest" && (scheme == "Bearer" || credential.Contains(':'));
        Assert.Equal(accepted ? HttpStatusCode.OK : HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task AnUnmodifiedPuppet_WithTheKeyInItsManagerUrl_CanRegister()
    {
        // axios turns http://user:KEY@manager:3000 into exactly this header.
        var corp = new TestCorp();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/puppetWxkfManager/register")
        {
            Content = JsonContent.Create(corp.Registration(TestCorp.NewKfId(), "http://10.0.0.5:8080")),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("puppet:" + KeyedManagerApp.Key)));

        using var response = await app.Client.SendAsync(request, Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(0, (await response.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("code").GetInt32());
    }

    [Fact]
    public async Task Register_WithoutTheKey_IsRefusedInTheOriginalShape_AndStoresNothing()
    {
        var corp = new TestCorp();
        var kfId = TestCorp.NewKfId();

        using var response = await app.Client.PostAsJsonAsync("/puppetWxkfManager/register", corp.Registration(kfId, "http://10.0.0.5:8080"), Ct);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(401, (await response.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("code").GetInt32());
        using var info = new HttpRequestMessage(HttpMethod.Get, $"/puppetWxkfManager/puppetWxkfInfo/{kfId}");
        info.Headers.Authorization = new AuthenticationHeaderValue("Bearer", KeyedManagerApp.Key);
        Assert.Equal(HttpStatusCode.NotFound, (await app.Client.SendAsync(info, Ct)).StatusCode);
    }

    [Fact]
    public async Task Callbacks_StayOpen_TheSignatureIsTheirAuthentication()
    {
        var corp = new TestCorp();
        var puppet = app.Puppets.Add(TestCorp.NewKfId(), corp.CorpId, corp.Token, corp.EncodingAesKey);
        using var register = new HttpRequestMessage(HttpMethod.Post, "/puppetWxkfManager/register") { Content = JsonContent.Create(corp.Registration(puppet.KfId, puppet.Endpoint)) };
        register.Headers.Authorization = new AuthenticationHeaderValue("Bearer", KeyedManagerApp.Key);
        (await app.Client.SendAsync(register, Ct)).EnsureSuccessStatusCode();
        var callback = corp.Callback(puppet.KfId, syncToken: "open");

        using var response = await app.Client.PostAsync(callback.Path, callback.Content(), Ct);

        Assert.Equal("success", await response.Content.ReadAsStringAsync(Ct));
        Assert.Equal("open", (await puppet.NextAsync()).Token);
    }

    [Fact]
    public async Task Ready_HasNoWarning_WhenBothKeysAndTheSecretsKeyAreSet()
    {
        var ready = await app.Client.GetFromJsonAsync<JsonElement>("/ready", Ct);

        Assert.False(ready.TryGetProperty("warnings", out _));
    }
}

public sealed class SecurityConfigurationTests
{
    [Fact]
    public async Task Ready_Warns_WhenNoKeyIsSet()
    {
        await using var app = new ManagerApp();
        await app.InitializeAsync();

        var ready = await app.Client.GetFromJsonAsync<JsonElement>("/ready", Ct);

        Assert.Contains("MANAGER_API_KEY", ready.GetProperty("warnings")[0].GetString());
    }

    [Theory]
    [InlineData("MANAGER_API_KEY", "short", "at least 16")]
    [InlineData("MANAGER_ALLOWED_NETWORKS", "10.0.0.0/8,not-a-network", "CIDR")]
    [InlineData("SECRETS_ENCRYPTION_KEY", "dG9vLXNob3J0", "32 bytes")]
    public async Task BadSecuritySettings_StopStartUp(string key, string value, string reason)
    {
        await using var app = new ManagerApp().With(key, value);

        var failure = await Record.ExceptionAsync(async () => await app.InitializeAsync());

        Assert.NotNull(failure);
        Assert.Contains(reason, failure.ToString());
    }

    [Theory]
    [InlineData("10.0.0.0/8", HttpStatusCode.Forbidden)]
    [InlineData("10.0.0.0/8,127.0.0.0/8", HttpStatusCode.OK)]
    [InlineData("::1/128,127.0.0.1/32", HttpStatusCode.OK)]
    public async Task ManagementNetworks_RestrictCallers(string networks, HttpStatusCode expected)
    {
        await using var app = new ManagerApp().With("MANAGER_ALLOWED_NETWORKS", networks);
        await app.InitializeAsync();

        using var response = await app.Client.GetAsync("/operator/queue", Ct);

        Assert.Equal(expected, response.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await app.Client.GetAsync("/health", Ct)).StatusCode);
    }

    [Fact]
    public async Task ManagementRequests_AreRateLimitedPerAddress()
    {
        await using var app = new ManagerApp().With("Security:ManagementRequestsPerMinute", "5");
        await app.InitializeAsync();

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 7; i++)
        {
            statuses.Add((await app.Client.GetAsync("/operator/queue", Ct)).StatusCode);
        }

        Assert.Equal(Enumerable.Repeat(HttpStatusCode.OK, 5), statuses.Take(5));
        Assert.Equal(HttpStatusCode.TooManyRequests, statuses[5]);
        // Callbacks and health are not management traffic.
        Assert.Equal(HttpStatusCode.OK, (await app.Client.GetAsync("/health", Ct)).StatusCode);
    }

    [Fact]
    public async Task RepeatedBadSignatures_FromOneAddress_AreRefused_EvenForAValidCallback()
    {
        await using var app = new ManagerApp().With("Security:SignatureFailuresPerMinute", "3");
        await app.InitializeAsync();
        var corp = new TestCorp();
        var puppet = await corp.RegisterPuppetAsync(app.Client, app.Puppets);

        for (var i = 0; i < 3; i++)
        {
            var forged = corp.Callback(puppet.KfId);
            var tampered = forged.Path.Replace(forged.Signature, new string('0', 40));
            Assert.Equal(HttpStatusCode.Forbidden, (await app.Client.PostAsync(tampered, forged.Content(), Ct)).StatusCode);
        }
        var valid = corp.Callback(puppet.KfId);
        using var response = await app.Client.PostAsync(valid.Path, valid.Content(), Ct);

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.True(await puppet.NothingArrivesAsync(TimeSpan.FromMilliseconds(300)));
    }

    [Theory]
    [InlineData("http://10.1.2.3:8080", true)]
    [InlineData("http://bot.internal:8080/a", true)]
    [InlineData("http://BOT.internal", true)]
    [InlineData("http://192.168.1.1:8080", false)]
    [InlineData("http://evil.example", false)]
    [InlineData("http://bot.internal.evil.example", false)]
    public async Task AllowedPuppetHosts_LimitWhereCallbacksMayGo(string endpoint, bool allowed)
    {
        await using var app = new ManagerApp()
            .With("Security:AllowedPuppetHosts:0", "10.0.0.0/8")
            .With("Security:AllowedPuppetHosts:1", "bot.internal");
        await app.InitializeAsync();
        var corp = new TestCorp();

        using var response = await app.Client.PostAsJsonAsync("/puppetWxkfManager/register", corp.Registration(TestCorp.NewKfId(), endpoint), Ct);

        Assert.Equal(allowed ? HttpStatusCode.OK : HttpStatusCode.BadRequest, response.StatusCode);
        if (!allowed)
        {
            Assert.Contains("allowed puppet hosts", (await response.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("message").GetString());
        }
    }
}
