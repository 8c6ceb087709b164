namespace WxkfManager.Tests.Security;

public sealed class RegistrationInputTests(ManagerApp app) : IClassFixture<ManagerApp>
{
    [Theory]
    [InlineData("kfId", "wk123\r\n", "kfId must be a WeCom open_kfid")]
    [InlineData("kfId", "kf0123456789", "kfId must be a WeCom open_kfid")]
    [InlineData("corpId", "ww12\u001b[31m", "corpId must be 2-64 ASCII letters and digits")]
    [InlineData("corpId", "ww-corp", "corpId must be 2-64 ASCII letters and digits")]
    [InlineData("endpoint", "http://10.0.0.5:8080/a\tb", "without whitespace or control characters")]
    [InlineData("endpoint", "http://10.0.0.5:8080/a\nFORGED", "without whitespace or control characters")]
    [InlineData("endpoint", " http://10.0.0.5:8080", "without whitespace or control characters")]
    [InlineData("kfName", "name\r\nFORGED", "without control characters")]
    [InlineData("corpSecret", "secret with space", "without whitespace or control characters")]
    [InlineData("token", "tok\u0000en", "without whitespace or control characters")]
    public async Task ControlCharactersWhitespaceAndForeignIds_AreRefused(string field, string value, string reason)
    {
        var corp = new TestCorp();
        var registration = JsonSerializer.SerializeToNode(corp.Registration(TestCorp.NewKfId(), "http://10.0.0.5:8080"))!.AsObject();
        registration[field] = value;

        using var response = await app.Client.PostAsJsonAsync("/puppetWxkfManager/register", registration, Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(reason, (await response.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("message").GetString());
    }

    [Theory]
    [InlineData("HTTP://Bot.Internal:80/path/", "http://bot.internal/path")]
    [InlineData("http://10.0.0.5:8080/", "http://10.0.0.5:8080")]
    [InlineData("http://[::1]:9000/a/b", "http://[::1]:9000/a/b")]
    public async Task TheStoredEndpoint_IsTheParsedNormalizedOne(string endpoint, string stored)
    {
        var corp = new TestCorp();
        var kfId = TestCorp.NewKfId();

        (await app.Client.PostAsJsonAsync("/puppetWxkfManager/register", corp.Registration(kfId, endpoint), Ct)).EnsureSuccessStatusCode();

        var info = await app.Client.GetFromJsonAsync<JsonElement>($"/puppetWxkfManager/puppetWxkfInfo/{kfId}", Ct);
        Assert.Equal(stored, info.GetProperty("botEndpoint").GetString());
    }
}
