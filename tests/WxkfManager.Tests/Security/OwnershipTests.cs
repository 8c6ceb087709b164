namespace WxkfManager.Tests.Security;

public sealed class OwnershipTests(ManagerApp app) : IClassFixture<ManagerApp>
{
    public static TheoryData<string, string> Takeovers => new()
    {
        { "other corp, token and key", "corpId, token, encodingAESKey" },
        { "same corp, other token and key", "token, encodingAESKey" },
        { "same corp and token, other key", "encodingAESKey" },
        { "same corp and key, other token", "token" },
    };

    [Theory]
    [MemberData(nameof(Takeovers))]
    public async Task ATakeoverWithOtherCredentials_IsConflict_NamingTheFields_AndTheOwnerKeepsReceiving(string attempt, string fields)
    {
        var owner = new TestCorp();
        var puppet = await owner.RegisterPuppetAsync(app.Client, app.Puppets);
        var stranger = new TestCorp();
        var registration = new Dictionary<string, string>
        {
            ["kfId"] = puppet.KfId,
            ["kfName"] = "attacker",
            ["endpoint"] = "http://10.6.6.6:8080",
            ["corpId"] = attempt.StartsWith("other corp") ? stranger.CorpId : owner.CorpId,
            ["corpSecret"] = stranger.CorpSecret,
            ["token"] = attempt.Contains("other token") || attempt.StartsWith("other corp") ? stranger.Token : owner.Token,
            ["encodingAESKey"] = attempt.Contains("key") && !attempt.EndsWith("other token") ? stranger.EncodingAesKey : owner.EncodingAesKey,
        };

        using var response = await app.Client.PostAsJsonAsync("/puppetWxkfManager/register", registration, Ct);

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        var answer = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal(409, answer.GetProperty("code").GetInt32());
        var message = answer.GetProperty("message").GetString()!;
        Assert.Contains($"another {fields}:", message);
        foreach (var value in new[] { owner.Token, owner.EncodingAesKey, stranger.Token, stranger.EncodingAesKey, stranger.CorpSecret, stranger.CorpId })
        {
            Assert.DoesNotContain(value, message);
        }
        var info = await app.Client.GetFromJsonAsync<JsonElement>($"/puppetWxkfManager/puppetWxkfInfo/{puppet.KfId}", Ct);
        Assert.Equal(puppet.Endpoint.TrimEnd('/'), info.GetProperty("botEndpoint").GetString());
        var callback = owner.Callback(puppet.KfId, syncToken: "still-mine");
        (await app.Client.PostAsync(callback.Path, callback.Content(), Ct)).EnsureSuccessStatusCode();
        Assert.Equal("still-mine", (await puppet.NextAsync()).Token);
        var logs = await LogFiles.WaitForAsync(app.LogDirectory, $"Refused a registration of {puppet.KfId}");
        Assert.Contains(fields, logs);
    }

    [Fact]
    public async Task ReRegistration_WithTheSameCredentials_FromAnotherAddressAndEndpoint_IsAccepted()
    {
        var corp = new TestCorp();
        var first = await corp.RegisterPuppetAsync(app.Client, app.Puppets);
        // The same puppet moved: a new instance, another endpoint, and another client address (127.0.0.2).
        var moved = app.Puppets.Add(first.KfId, corp.CorpId, corp.Token, corp.EncodingAesKey);
        using var otherAddress = LoopbackClient.From("127.0.0.2", app.Client.BaseAddress!);

        using var response = await otherAddress.PostAsJsonAsync("/puppetWxkfManager/register", corp.Registration(first.KfId, moved.Endpoint), Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var callback = corp.Callback(first.KfId, syncToken: "to-the-new-instance");
        (await app.Client.PostAsync(callback.Path, callback.Content(), Ct)).EnsureSuccessStatusCode();
        Assert.Equal("to-the-new-instance", (await moved.NextAsync()).Token);
        Assert.Equal(0, first.Attempts);
    }

    [Fact]
    public async Task AfterADeregistration_TheKfIdIsFree_ForOtherCredentials()
    {
        var owner = new TestCorp();
        var kfId = TestCorp.NewKfId();
        (await app.Client.PostAsJsonAsync("/puppetWxkfManager/register", owner.Registration(kfId, "http://10.0.0.5:8080"), Ct)).EnsureSuccessStatusCode();
        (await app.Client.PostAsJsonAsync("/puppetWxkfManager/deregister", new { kfId, corpId = owner.CorpId }, Ct)).EnsureSuccessStatusCode();

        using var response = await app.Client.PostAsJsonAsync("/puppetWxkfManager/register", new TestCorp().Registration(kfId, "http://10.0.0.6:8080"), Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task AnOperator_CanReplaceAPuppetsCredentials_AndReleaseIt()
    {
        var owner = new TestCorp();
        var puppet = await owner.RegisterPuppetAsync(app.Client, app.Puppets);
        var rotated = new TestCorp(owner.CorpId);
        var renewed = app.Puppets.Add(puppet.KfId, rotated.CorpId, rotated.Token, rotated.EncodingAesKey);

        using var replaced = await app.Client.PutAsJsonAsync($"/operator/puppets/{puppet.KfId}", rotated.Registration(puppet.KfId, renewed.Endpoint), Ct);

        Assert.Equal(HttpStatusCode.OK, replaced.StatusCode);
        var callback = rotated.Callback(puppet.KfId, syncToken: "rotated");
        (await app.Client.PostAsync(callback.Path, callback.Content(), Ct)).EnsureSuccessStatusCode();
        Assert.Equal("rotated", (await renewed.NextAsync()).Token);

        using var released = await app.Client.DeleteAsync($"/operator/puppets/{puppet.KfId}", Ct);

        Assert.Equal(HttpStatusCode.OK, released.StatusCode);
        var info = await app.Client.GetFromJsonAsync<JsonElement>($"/puppetWxkfManager/puppetWxkfInfo/{puppet.KfId}", Ct);
        Assert.False(info.GetProperty("online").GetBoolean());
        using var fresh = await app.Client.PostAsJsonAsync("/puppetWxkfManager/register", new TestCorp().Registration(puppet.KfId, "http://10.0.0.7:8080"), Ct);
        Assert.Equal(HttpStatusCode.OK, fresh.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await app.Client.DeleteAsync($"/operator/puppets/{TestCorp.NewKfId()}", Ct)).StatusCode);
    }

    [Fact]
    public async Task OperatorReplace_OfAnotherKfIdThanThePath_IsBadRequest()
    {
        var corp = new TestCorp();

        using var response = await app.Client.PutAsJsonAsync($"/operator/puppets/{TestCorp.NewKfId()}", corp.Registration(TestCorp.NewKfId(), "http://10.0.0.5:8080"), Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }
}
