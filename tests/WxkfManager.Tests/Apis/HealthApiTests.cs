namespace WxkfManager.Tests.Apis;

public sealed class HealthApiTests(ManagerApp app) : IClassFixture<ManagerApp>
{
    [Fact]
    public async Task Health_SaysAlive()
    {
        var health = await app.Client.GetFromJsonAsync<JsonElement>("/health", Ct);

        Assert.Equal("alive", health.GetProperty("status").GetString());
    }

    [Fact]
    public async Task Ready_NamesTheStore()
    {
        using var response = await app.Client.GetAsync("/ready", Ct);
        var ready = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("ready", ready.GetProperty("status").GetString());
        Assert.Equal("sqlite", ready.GetProperty("store").GetString());
    }

    [Theory]
    [InlineData("/callback/{corpId}", "get", "verifyCallbackUrl")]
    [InlineData("/callback/{corpId}", "post", "callback")]
    [InlineData("/callback/decrypted/{corpId}", "post", "decryptedCallback")]
    [InlineData("/puppetWxkfManager/register", "post", "register")]
    [InlineData("/puppetWxkfManager/deregister", "post", "deregister")]
    [InlineData("/puppetWxkfManager/getToken", "get", "getToken")]
    [InlineData("/puppetWxkfManager/puppetWxkfInfo/{kfId}", "get", "puppetWxkfInfo")]
    [InlineData("/puppetWxkfManager/wxkfRequestProxy/{path}", "get", "wxkfRequestProxyGet")]
    [InlineData("/puppetWxkfManager/wxkfRequestProxy/{path}", "post", "wxkfRequestProxy")]
    [InlineData("/health", "get", "health")]
    [InlineData("/ready", "get", "ready")]
    public async Task OpenApi_DescribesEveryEndpoint_WithAnExample(string path, string method, string operationId)
    {
        var document = await app.Client.GetFromJsonAsync<JsonElement>("/swagger/v1/swagger.json", Ct);

        var operation = document.GetProperty("paths").GetProperty(path).GetProperty(method);
        Assert.Equal(operationId, operation.GetProperty("operationId").GetString());
        Assert.False(string.IsNullOrEmpty(operation.GetProperty("summary").GetString()));
        var answer = operation.GetProperty("responses").GetProperty("200").GetProperty("content").EnumerateObject().First().Value;
        Assert.True(answer.TryGetProperty("example", out _), $"{method} {path} has no answer example");
    }

    [Fact]
    public async Task SwaggerUi_IsServed()
    {
        using var response = await app.Client.GetAsync("/swagger/index.html", Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task UnknownRoute_IsNotFound_WithoutAStackTrace()
    {
        using var response = await app.Client.GetAsync("/no/such/route", Ct);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.DoesNotContain("   at ", await response.Content.ReadAsStringAsync(Ct));
    }
}
