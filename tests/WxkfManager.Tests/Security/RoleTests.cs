using System.Net.Http.Headers;

namespace WxkfManager.Tests.Security;

/// <summary>The puppet key (in every puppet's URL and logs) opens puppet endpoints only; the operator key opens the rest.</summary>
public sealed class RoleTests(KeyedManagerApp app) : IClassFixture<KeyedManagerApp>
{
    public static TheoryData<string, string> OperatorCalls => new()
    {
        { "GET", "/operator/queue" },
        { "GET", "/operator/puppets" },
        { "GET", "/operator/dead-letters" },
        { "POST", "/operator/dead-letters/replay" },
        { "POST", "/operator/dead-letters/0123456789abcdef/replay" },
        { "PUT", "/operator/puppets/wk0123456789" },
        { "DELETE", "/operator/puppets/wk0123456789" },
        { "GET", "/metrics" },
    };

    public static TheoryData<string, string> PuppetCalls => new()
    {
        { "POST", "/puppetWxkfManager/register" },
        { "POST", "/puppetWxkfManager/deregister" },
        { "GET", "/puppetWxkfManager/getToken?corpid=ww1&corpsecret=right-secret" },
        { "GET", "/puppetWxkfManager/puppetWxkfInfo/wk1" },
        { "GET", "/puppetWxkfManager/wxkfRequestProxy/kf/account/list" },
    };

    [Theory]
    [MemberData(nameof(OperatorCalls))]
    public async Task ThePuppetKey_IsRefused_OnEveryOperatorEndpoint(string method, string path)
    {
        using var asBearer = await SendAsync(method, path, "Bearer", KeyedManagerApp.Key);
        using var asPuppetUrl = await SendAsync(method, path, "Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes("puppet:" + KeyedManagerApp.Key)));

        Assert.Equal(HttpStatusCode.Unauthorized, asBearer.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, asPuppetUrl.StatusCode);
        Assert.Contains("MANAGER_OPERATOR_KEY", await asBearer.Content.ReadAsStringAsync(Ct));
    }

    [Theory]
    [MemberData(nameof(OperatorCalls))]
    public async Task TheOperatorKey_Works_OnEveryOperatorEndpoint(string method, string path)
    {
        using var response = await SendAsync(method, path, "Bearer", KeyedManagerApp.OperatorKey);

        // Authorized: the answer is the endpoint's own (an empty PUT is 400, an unknown id 404).
        Assert.NotEqual(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.NotEqual(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.True(response.StatusCode is HttpStatusCode.OK or HttpStatusCode.BadRequest or HttpStatusCode.NotFound, $"{method} {path}: {response.StatusCode}");
    }

    [Theory]
    [MemberData(nameof(PuppetCalls))]
    public async Task TheOperatorKey_DoesNotOpenPuppetEndpoints(string method, string path)
    {
        using var response = await SendAsync(method, path, "Bearer", KeyedManagerApp.OperatorKey);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    private async Task<HttpResponseMessage> SendAsync(string method, string path, string scheme, string credential)
    {
        var request = new HttpRequestMessage(new HttpMethod(method), path);
        request.Headers.Authorization = new AuthenticationHeaderValue(scheme, credential);
        if (method is "POST" or "PUT")
        {
            request.Content = JsonContent.Create(new { });
        }
        return await app.Client.SendAsync(request, Ct);
    }
}

public sealed class RoleConfigurationTests
{
    [Fact]
    public async Task WithOnlyThePuppetKey_OperatorEndpointsAreClosed_AndTheServiceSaysSo()
    {
        await using var app = new ManagerApp().With("MANAGER_API_KEY", KeyedManagerApp.Key);
        await app.InitializeAsync();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/operator/queue");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", KeyedManagerApp.Key);

        using var response = await app.Client.SendAsync(request, Ct);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("set MANAGER_OPERATOR_KEY", await response.Content.ReadAsStringAsync(Ct));
        var ready = await app.Client.GetFromJsonAsync<JsonElement>("/ready", Ct);
        Assert.Contains(ready.GetProperty("warnings").EnumerateArray(), w => w.GetString()!.Contains("MANAGER_OPERATOR_KEY is not set"));
        var log = await LogFiles.WaitForAsync(app.LogDirectory, "MANAGER_OPERATOR_KEY is not set");
        Assert.Contains("[WRN]", log.Split('\n').Single(l => l.Contains("MANAGER_OPERATOR_KEY is not set")));
    }

    [Fact]
    public async Task WithOnlyTheOperatorKey_PuppetEndpointsStayOpen_AndOperatorEndpointsNeedIt()
    {
        await using var app = new ManagerApp().With("MANAGER_OPERATOR_KEY", KeyedManagerApp.OperatorKey);
        await app.InitializeAsync();

        Assert.Equal(HttpStatusCode.Unauthorized, (await app.Client.GetAsync("/operator/queue", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await app.Client.GetAsync($"/puppetWxkfManager/puppetWxkfInfo/{TestCorp.NewKfId()}", Ct)).StatusCode);
    }

    [Fact]
    public async Task OneKeyForBothRoles_StopsStartUp()
    {
        await using var app = new ManagerApp().With("MANAGER_API_KEY", KeyedManagerApp.Key).With("MANAGER_OPERATOR_KEY", KeyedManagerApp.Key);

        var failure = await Record.ExceptionAsync(async () => await app.InitializeAsync());

        Assert.NotNull(failure);
        Assert.Contains("MANAGER_OPERATOR_KEY must differ from MANAGER_API_KEY", failure.ToString());
    }

    [Fact]
    public async Task WithoutTheSecretsKey_OneWarningLineAtStart_AndReadySaysSecretsAreInClear()
    {
        await using var app = new ManagerApp();
        await app.InitializeAsync();

        var ready = await app.Client.GetFromJsonAsync<JsonElement>("/ready", Ct);

        Assert.Contains(ready.GetProperty("warnings").EnumerateArray(), w => w.GetString()!.Contains("SECRETS_ENCRYPTION_KEY is not set") && w.GetString()!.Contains("in clear"));
        var log = await LogFiles.WaitForAsync(app.LogDirectory, "SECRETS_ENCRYPTION_KEY is not set");
        Assert.Single(log.Split('\n'), l => l.Contains("SECRETS_ENCRYPTION_KEY"));
    }
}
