namespace WxkfManager.Tests.Apis;

public sealed class ManagerApiTests(ManagerApp app) : IClassFixture<ManagerApp>
{
    private HttpClient Client => app.Client;

    [Fact]
    public async Task Register_AnswersTheOriginalSuccessShape()
    {
        var corp = new TestCorp();

        using var response = await Client.PostAsJsonAsync("/puppetWxkfManager/register", corp.Registration(TestCorp.NewKfId(), "http://10.0.0.5:8080"), Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("""{"code":0,"message":"success"}""", await response.Content.ReadAsStringAsync(Ct));
    }

    [Fact]
    public async Task Register_WithExtraFields_IgnoresThem()
    {
        var corp = new TestCorp();
        var body = JsonSerializer.SerializeToNode(corp.Registration(TestCorp.NewKfId(), "http://10.0.0.5:8080"))!.AsObject();
        body["somethingNew"] = 42;

        using var response = await Client.PostAsJsonAsync("/puppetWxkfManager/register", body, Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task PuppetInfo_ShowsTheRegistration_WithoutSecrets()
    {
        var corp = new TestCorp();
        var kfId = TestCorp.NewKfId();
        (await Client.PostAsJsonAsync("/puppetWxkfManager/register", corp.Registration(kfId, "http://10.0.0.5:8080/bot"), Ct)).EnsureSuccessStatusCode();

        using var response = await Client.GetAsync($"/puppetWxkfManager/puppetWxkfInfo/{kfId}", Ct);
        var text = await response.Content.ReadAsStringAsync(Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var info = JsonDocument.Parse(text).RootElement;
        Assert.Equal(kfId, info.GetProperty("kfOpenId").GetString());
        Assert.Equal("客服 " + kfId[..6], info.GetProperty("name").GetString());
        Assert.Equal("http://10.0.0.5:8080/bot", info.GetProperty("botEndpoint").GetString());
        Assert.Equal(corp.CorpId, info.GetProperty("corpId").GetString());
        Assert.True(info.GetProperty("online").GetBoolean());
        Assert.Equal(JsonValueKind.Null, info.GetProperty("lastOnlineDate").ValueKind);
        foreach (var secret in new[] { corp.CorpSecret, corp.Token, corp.EncodingAesKey, "corpSecret", "encodingAESKey", "\"token\"" })
        {
            Assert.DoesNotContain(secret, text);
        }
    }

    [Fact]
    public async Task PuppetInfo_OfUnknownKfId_IsNotFoundInTheOriginalShape()
    {
        using var response = await Client.GetAsync("/puppetWxkfManager/puppetWxkfInfo/wk-nobody", Ct);

        await AssertManagerErrorAsync(response, HttpStatusCode.NotFound, "wk-nobody");
    }

    [Fact]
    public async Task PuppetInfo_OfMalformedKfId_IsBadRequest()
    {
        using var response = await Client.GetAsync("/puppetWxkfManager/puppetWxkfInfo/wk%20%3Cscript%3E", Ct);

        await AssertManagerErrorAsync(response, HttpStatusCode.BadRequest, "kfId");
    }

    [Fact]
    public async Task Register_Again_ReplacesEndpoint_AndCallbacksFollow()
    {
        var corp = new TestCorp();
        var kfId = TestCorp.NewKfId();
        var before = app.Puppets.Add(kfId, corp.CorpId, corp.Token, corp.EncodingAesKey);
        var after = app.Puppets.Add(kfId, corp.CorpId, corp.Token, corp.EncodingAesKey);
        (await Client.PostAsJsonAsync("/puppetWxkfManager/register", corp.Registration(kfId, before.Endpoint), Ct)).EnsureSuccessStatusCode();
        (await Client.PostAsJsonAsync("/puppetWxkfManager/register", corp.Registration(kfId, after.Endpoint), Ct)).EnsureSuccessStatusCode();
        var callback = corp.Callback(kfId, syncToken: "to-the-new-endpoint");

        await Client.PostAsync(callback.Path, callback.Content(), Ct);

        Assert.Equal("to-the-new-endpoint", (await after.NextAsync()).Token);
        Assert.Equal(0, before.Attempts);
    }

    [Fact]
    public async Task Deregister_MarksOffline_KeepsTheRecord_AndNotesTheTime()
    {
        var corp = new TestCorp();
        var kfId = TestCorp.NewKfId();
        (await Client.PostAsJsonAsync("/puppetWxkfManager/register", corp.Registration(kfId, "http://10.0.0.5:8080"), Ct)).EnsureSuccessStatusCode();
        var before = DateTime.UtcNow.AddSeconds(-1);

        using var response = await Client.PostAsJsonAsync("/puppetWxkfManager/deregister", new { kfId, kfName = "sent by the puppet too", corpId = corp.CorpId }, Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("""{"code":0,"message":"success"}""", await response.Content.ReadAsStringAsync(Ct));
        var info = await Client.GetFromJsonAsync<JsonElement>($"/puppetWxkfManager/puppetWxkfInfo/{kfId}", Ct);
        Assert.False(info.GetProperty("online").GetBoolean());
        Assert.InRange(info.GetProperty("lastOnlineDate").GetDateTime().ToUniversalTime(), before, DateTime.UtcNow.AddSeconds(1));
    }

    [Fact]
    public async Task Deregister_OfUnknownPuppet_AnswersSuccess_AsTheOriginalDid()
    {
        using var response = await Client.PostAsJsonAsync("/puppetWxkfManager/deregister", new { kfId = "wk-nobody", corpId = "wwnobody" }, Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("""{"code":0,"message":"success"}""", await response.Content.ReadAsStringAsync(Ct));
    }

    [Fact]
    public async Task Deregister_Twice_AnswersSuccessBothTimes_AndStaysOffline()
    {
        var corp = new TestCorp();
        var kfId = TestCorp.NewKfId();
        (await Client.PostAsJsonAsync("/puppetWxkfManager/register", corp.Registration(kfId, "http://10.0.0.5:8080"), Ct)).EnsureSuccessStatusCode();

        using var first = await Client.PostAsJsonAsync("/puppetWxkfManager/deregister", new { kfId, corpId = corp.CorpId }, Ct);
        using var second = await Client.PostAsJsonAsync("/puppetWxkfManager/deregister", new { kfId, corpId = corp.CorpId }, Ct);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal("""{"code":0,"message":"success"}""", await second.Content.ReadAsStringAsync(Ct));
        var info = await Client.GetFromJsonAsync<JsonElement>($"/puppetWxkfManager/puppetWxkfInfo/{kfId}", Ct);
        Assert.False(info.GetProperty("online").GetBoolean());
    }

    [Fact]
    public async Task Deregister_WithTheWrongCorp_AnswersSuccess_AndLeavesThePuppetOnline()
    {
        var corp = new TestCorp();
        var kfId = TestCorp.NewKfId();
        (await Client.PostAsJsonAsync("/puppetWxkfManager/register", corp.Registration(kfId, "http://10.0.0.5:8080"), Ct)).EnsureSuccessStatusCode();

        using var response = await Client.PostAsJsonAsync("/puppetWxkfManager/deregister", new { kfId, corpId = "wwother" }, Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var info = await Client.GetFromJsonAsync<JsonElement>($"/puppetWxkfManager/puppetWxkfInfo/{kfId}", Ct);
        Assert.True(info.GetProperty("online").GetBoolean());
    }

    [Theory]
    [InlineData("{}", "kfId is required")]
    [InlineData("{\"kfId\":\"wk1\"}", "corpId is required")]
    [InlineData("{\"kfId\":\"wk 1\",\"corpId\":\"ww1\"}", "kfId must be")]
    [InlineData("{\"kfId\":7,\"corpId\":\"ww1\"}", "$.kfId")]
    [InlineData("nope", "JSON object")]
    public async Task Deregister_WithBadBody_IsBadRequestWithReason(string body, string reason)
    {
        using var response = await Client.PostAsync("/puppetWxkfManager/deregister", Json(body), Ct);

        await AssertManagerErrorAsync(response, HttpStatusCode.BadRequest, reason);
    }

    public static TheoryData<string, string?, string> BadRegistrations => new()
    {
        { "kfId", null, "kfId is required" },
        { "kfName", null, "kfName is required" },
        { "endpoint", null, "endpoint is required" },
        { "corpId", null, "corpId is required" },
        { "corpSecret", null, "corpSecret is required" },
        { "token", null, "token is required" },
        { "encodingAESKey", null, "encodingAESKey is required" },
        { "kfId", "", "kfId is required" },
        { "kfId", "wk/../x", "kfId must be" },
        { "corpId", "ww corp", "corpId must be" },
        { "encodingAESKey", "tooShort", "43 characters" },
        { "encodingAESKey", "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!", "Base64" },
        { "endpoint", "not a url", "absolute http or https URL" },
        { "endpoint", "/relative/path", "absolute http or https URL" },
        { "endpoint", "ftp://10.0.0.5/x", "absolute http or https URL" },
        { "endpoint", "file:///etc/passwd", "absolute http or https URL" },
        { "endpoint", "http://user:pass@10.0.0.5:8080", "credentials" },
        { "endpoint", "http://10.0.0.5:8080/?a=1", "query or fragment" },
        { "token", "to\nken", "control characters" },
    };

    [Theory]
    [MemberData(nameof(BadRegistrations))]
    public async Task Register_WithABadField_IsBadRequestSayingWhat(string field, string? value, string reason)
    {
        var corp = new TestCorp();
        var kfId = TestCorp.NewKfId();
        var body = JsonSerializer.SerializeToNode(corp.Registration(kfId, "http://10.0.0.5:8080"))!.AsObject();
        if (value is null)
        {
            body.Remove(field);
        }
        else
        {
            body[field] = value;
        }

        using var response = await Client.PostAsJsonAsync("/puppetWxkfManager/register", body, Ct);

        await AssertManagerErrorAsync(response, HttpStatusCode.BadRequest, reason);
        Assert.Equal(HttpStatusCode.NotFound, (await Client.GetAsync($"/puppetWxkfManager/puppetWxkfInfo/{kfId}", Ct)).StatusCode);
    }

    [Fact]
    public async Task Register_WithSeveralBadFields_ListsThemAll()
    {
        using var response = await Client.PostAsync("/puppetWxkfManager/register", Json("""{"kfId":"wk1"}"""), Ct);

        var error = await AssertManagerErrorAsync(response, HttpStatusCode.BadRequest, "kfName is required");
        Assert.Contains("endpoint is required", error);
        Assert.Contains("encodingAESKey is required", error);
    }

    [Theory]
    [InlineData("", "JSON object")]
    [InlineData("null", "JSON object")]
    [InlineData("[]", "JSON object")]
    [InlineData("{\"kfId\":", "JSON object")]
    [InlineData("{\"kfId\":{\"$ne\":null}}", "$.kfId")]
    public async Task Register_WithMalformedJson_IsBadRequest(string body, string reason)
    {
        using var response = await Client.PostAsync("/puppetWxkfManager/register", Json(body), Ct);

        await AssertManagerErrorAsync(response, HttpStatusCode.BadRequest, reason);
    }

    [Fact]
    public async Task Register_WithoutContentType_StillReadsTheJson()
    {
        var corp = new TestCorp();
        var json = JsonSerializer.Serialize(corp.Registration(TestCorp.NewKfId(), "http://10.0.0.5:8080"));

        using var response = await Client.PostAsync("/puppetWxkfManager/register", new ByteArrayContent(System.Text.Encoding.UTF8.GetBytes(json)), Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Register_WithOversizeBody_IsRefused()
    {
        var corp = new TestCorp();
        var body = JsonSerializer.SerializeToNode(corp.Registration(TestCorp.NewKfId(), "http://10.0.0.5:8080"))!.AsObject();
        body["padding"] = new string('x', 20_000);

        using var response = await Client.PostAsJsonAsync("/puppetWxkfManager/register", body, Ct);

        await AssertManagerErrorAsync(response, HttpStatusCode.RequestEntityTooLarge, "larger than");
    }

    private static StringContent Json(string body) => new(body, System.Text.Encoding.UTF8, "application/json");

    private static async Task<string> AssertManagerErrorAsync(HttpResponseMessage response, HttpStatusCode status, string reasonFragment)
    {
        Assert.Equal(status, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal((int)status, body.GetProperty("code").GetInt32());
        var message = body.GetProperty("message").GetString();
        Assert.Contains(reasonFragment, message);
        return message!;
    }
}
