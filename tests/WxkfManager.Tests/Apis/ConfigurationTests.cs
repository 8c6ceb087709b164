using Microsoft.Extensions.Options;

namespace WxkfManager.Tests.Apis;

public sealed class ConfigurationTests
{
    [Theory]
    [InlineData("MONGO_URI", "not-a-mongo-uri", "MONGO_URI")]
    [InlineData("ACCESS_TOKEN_URL", "ftp://tokens.example/gettoken", "ACCESS_TOKEN_URL")]
    [InlineData("WeCom:ApiBaseUrl", "relative/path", "ApiBaseUrl")]
    [InlineData("Delivery:Concurrency", "0", "Concurrency")]
    [InlineData("Delivery:ProbeFirstInterval", "00:00:10", "ProbeFirstInterval")]
    [InlineData("Delivery:AttemptTimeout", "00:00:00", "AttemptTimeout")]
    [InlineData("Storage:RegistryRefreshInterval", "00:00:00", "RegistryRefreshInterval")]
    [InlineData("Storage:RegistryChangePollInterval", "00:00:00", "RegistryChangePollInterval")]
    [InlineData("Delivery:LeaseDuration", "00:00:05", "worst-case attempt")]
    [InlineData("Delivery:PoisonClaimLimit", "0", "PoisonClaimLimit")]
    [InlineData("Callback:MaxBodyBytes", "10", "MaxBodyBytes")]
    public async Task InvalidConfiguration_StopsStartUp_WithAClearMessage(string key, string value, string named)
    {
        await using var app = new ManagerApp().With(key, value);

        var failure = await Record.ExceptionAsync(async () => await app.InitializeAsync());

        var validation = Assert.IsType<OptionsValidationException>(Unwrap(failure));
        Assert.Contains(named, validation.Message);
    }

    [Fact]
    public async Task InvalidPort_StopsStartUp_WithAClearMessage()
    {
        await using var app = new ManagerApp().With("urls", "").With("PORT", "not-a-port");

        var failure = await Record.ExceptionAsync(async () => await app.InitializeAsync());

        var validation = Assert.IsType<OptionsValidationException>(Unwrap(failure));
        Assert.Contains("PORT must be a number", validation.Message);
    }

    [Fact]
    public async Task GetToken_WhenTheTokenServiceIsDown_AnswersAnErrcodeNot5xxWithStack()
    {
        await using var app = new ManagerApp().With("ACCESS_TOKEN_URL", "http://127.0.0.1:1/cgi-bin/gettoken");
        await app.InitializeAsync();

        using var response = await app.Client.GetAsync("/puppetWxkfManager/getToken?corpid=ww1&corpsecret=s", Ct);

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal(504, body.GetProperty("errcode").GetInt32());
        Assert.Contains("unreachable", body.GetProperty("errmsg").GetString());
    }

    [Fact]
    public async Task Proxy_WhenWeComIsDown_IsBadGateway()
    {
        await using var app = new ManagerApp().With("WeCom:ApiBaseUrl", "http://127.0.0.1:1/cgi-bin/");
        await app.InitializeAsync();

        using var response = await app.Client.GetAsync("/puppetWxkfManager/wxkfRequestProxy/kf/account/list", Ct);

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
    }

    [Fact]
    public async Task LogFiles_AreWrittenUnderLogPath()
    {
        await using var app = new ManagerApp();
        await app.InitializeAsync();
        await app.Client.GetAsync("/health", Ct);

        Assert.NotEmpty(Directory.GetFiles(app.LogDirectory, "wxkf-manager-*.log"));
    }

    private static Exception? Unwrap(Exception? exception) =>
        exception is AggregateException { InnerException: { } inner } ? Unwrap(inner) : exception;
}
