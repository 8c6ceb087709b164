using static WxkfManager.Tests.Infrastructure.Problems;

namespace WxkfManager.Tests.Apis;

public sealed class CallbackApiTests(ManagerApp app) : IClassFixture<ManagerApp>
{
    private HttpClient Client => app.Client;
    private static string Now => DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString();

    [Fact]
    public async Task VerifyUrl_WithAnUnencodedPlus_StillVerifies()
    {
        var corp = new TestCorp();
        await corp.RegisterPuppetAsync(Client, app.Puppets);
        string echo;
        Crypto.SealedMessage sealedEcho;
        do
        {
            echo = Guid.NewGuid().ToString("N");
            sealedEcho = corp.Crypto.Seal(echo, corp.CorpId, Now, "42");
        }
        while (!sealedEcho.Encrypt.Contains('+'));

        using var response = await Client.GetAsync(
            $"/callback/{corp.CorpId}?msg_signature={sealedEcho.Signature}&timestamp={sealedEcho.Timestamp}&nonce=42&echostr={sealedEcho.Encrypt}", Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(echo, await response.Content.ReadAsStringAsync(Ct));
    }

    [Fact]
    public async Task VerifyUrl_WithBadSignature_IsForbiddenWithReason()
    {
        var corp = new TestCorp();
        await corp.RegisterPuppetAsync(Client, app.Puppets);
        var sealedEcho = corp.Crypto.Seal("123", corp.CorpId, Now, "42");

        using var response = await Client.GetAsync(
            $"/callback/{corp.CorpId}?msg_signature={new string('0', 40)}&timestamp={sealedEcho.Timestamp}&nonce=42&echostr={Uri.EscapeDataString(sealedEcho.Encrypt)}", Ct);

        await AssertProblemAsync(response, HttpStatusCode.Forbidden, "msg_signature");
    }

    [Fact]
    public async Task VerifyUrl_ForUnknownCorp_IsAnsweredLikeABadSignature()
    {
        using var response = await Client.GetAsync($"/callback/wwnobody?msg_signature=a&timestamp={Now}&nonce=2&echostr=abc", Ct);

        // Deliberately changed from 404 naming the corp: the answer must not tell which corps are registered.
        await AssertProblemAsync(response, HttpStatusCode.Forbidden, "msg_signature does not match");
        Assert.DoesNotContain("wwnobody", await response.Content.ReadAsStringAsync(Ct));
    }

    [Theory]
    [InlineData("timestamp=1&nonce=2&echostr=abc", "msg_signature")]
    [InlineData("msg_signature=a&nonce=2&echostr=abc", "timestamp")]
    [InlineData("msg_signature=a&timestamp=1&echostr=abc", "nonce")]
    [InlineData("msg_signature=a&timestamp=1&nonce=2", "echostr")]
    public async Task VerifyUrl_WithMissingQuery_IsBadRequestNamingIt(string query, string missing)
    {
        using var response = await Client.GetAsync($"/callback/wwany?{query}", Ct);

        await AssertProblemAsync(response, HttpStatusCode.BadRequest, missing);
    }

    [Fact]
    public async Task Callback_IsForwardedUnchanged_ToItsPuppet()
    {
        var corp = new TestCorp();
        var puppet = await corp.RegisterPuppetAsync(Client, app.Puppets);
        var callback = corp.Callback(puppet.KfId, syncToken: "ENC_sync_token_1");

        using var response = await Client.PostAsync(callback.Path, callback.Content(), Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("success", await response.Content.ReadAsStringAsync(Ct));
        var received = await puppet.NextAsync();
        Assert.EndsWith("/callback", received.Path);
        Assert.Equal(callback.Body, received.Body);
        Assert.StartsWith("application/xml", received.ContentType);
        Assert.Equal(callback.Signature, received.Query["msg_signature"]);
        Assert.Equal(callback.Timestamp, received.Query["timestamp"]);
        Assert.Equal(callback.Nonce, received.Query["nonce"]);
        Assert.Equal("ENC_sync_token_1", received.Token);
    }

    [Theory]
    [InlineData("application/xml")]
    [InlineData("text/plain")]
    public async Task Callback_WithAnyXmlishContentType_IsAccepted(string mediaType)
    {
        var corp = new TestCorp();
        var puppet = await corp.RegisterPuppetAsync(Client, app.Puppets);
        var callback = corp.Callback(puppet.KfId);

        using var response = await Client.PostAsync(callback.Path, callback.Content(mediaType), Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(callback.Body, (await puppet.NextAsync()).Body);
    }

    [Fact]
    public async Task Callback_ForOneOfSeveralApps_UsesTheAppWhoseSignatureMatches()
    {
        var appA = new TestCorp();
        var appB = appA.OtherApp();
        var puppetA = await appA.RegisterPuppetAsync(Client, app.Puppets);
        var puppetB = await appB.RegisterPuppetAsync(Client, app.Puppets);

        var forB = appB.Callback(puppetB.KfId, syncToken: "for-b");
        var forA = appA.Callback(puppetA.KfId, syncToken: "for-a");
        using var responseB = await Client.PostAsync(forB.Path, forB.Content(), Ct);
        using var responseA = await Client.PostAsync(forA.Path, forA.Content(), Ct);

        Assert.Equal(HttpStatusCode.OK, responseB.StatusCode);
        Assert.Equal(HttpStatusCode.OK, responseA.StatusCode);
        Assert.Equal("for-b", (await puppetB.NextAsync()).Token);
        Assert.Equal("for-a", (await puppetA.NextAsync()).Token);
    }

    [Fact]
    public async Task Callback_WithTamperedBody_IsForbidden_AndNotForwarded()
    {
        var corp = new TestCorp();
        var puppet = await corp.RegisterPuppetAsync(Client, app.Puppets);
        var callback = corp.Callback(puppet.KfId);
        var other = corp.Callback(puppet.KfId);

        using var response = await Client.PostAsync(callback.Path, other.Content(), Ct);

        await AssertProblemAsync(response, HttpStatusCode.Forbidden, "msg_signature");
        Assert.True(await puppet.NothingArrivesAsync(TimeSpan.FromMilliseconds(500)));
    }

    [Fact]
    public async Task Callback_EncryptedForAnotherReceiveId_IsBadRequest()
    {
        var corp = new TestCorp();
        var puppet = await corp.RegisterPuppetAsync(Client, app.Puppets);
        var callback = corp.Callback(puppet.KfId, receiveId: "ww-someone-else");

        using var response = await Client.PostAsync(callback.Path, callback.Content(), Ct);

        await AssertProblemAsync(response, HttpStatusCode.BadRequest, "receive id");
        Assert.True(await puppet.NothingArrivesAsync(TimeSpan.FromMilliseconds(300)));
    }

    [Fact]
    public async Task Callback_OfAnotherEventType_IsAnsweredButNotForwarded()
    {
        var corp = new TestCorp();
        var puppet = await corp.RegisterPuppetAsync(Client, app.Puppets);
        var other = corp.Callback(puppet.KfId, eventType: "change_external_contact");
        var kf = corp.Callback(puppet.KfId, syncToken: "the-kf-one");

        using var otherResponse = await Client.PostAsync(other.Path, other.Content(), Ct);
        using var kfResponse = await Client.PostAsync(kf.Path, kf.Content(), Ct);

        Assert.Equal("success", await otherResponse.Content.ReadAsStringAsync(Ct));
        Assert.Equal("the-kf-one", (await puppet.NextAsync()).Token);
        Assert.True(await puppet.NothingArrivesAsync(TimeSpan.FromMilliseconds(300)));
    }

    [Fact]
    public async Task Callback_ForUnknownKfId_IsAnsweredButNotForwarded()
    {
        var corp = new TestCorp();
        var puppet = await corp.RegisterPuppetAsync(Client, app.Puppets);
        var callback = corp.Callback(TestCorp.NewKfId());

        using var response = await Client.PostAsync(callback.Path, callback.Content(), Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("success", await response.Content.ReadAsStringAsync(Ct));
        Assert.True(await puppet.NothingArrivesAsync(TimeSpan.FromMilliseconds(300)));
    }

    [Fact]
    public async Task Callback_ForADeregisteredPuppet_IsAnsweredButNotForwarded()
    {
        var corp = new TestCorp();
        var puppet = await corp.RegisterPuppetAsync(Client, app.Puppets);
        (await Client.PostAsJsonAsync("/puppetWxkfManager/deregister", new { kfId = puppet.KfId, corpId = corp.CorpId }, Ct)).EnsureSuccessStatusCode();
        var callback = corp.Callback(puppet.KfId);

        using var response = await Client.PostAsync(callback.Path, callback.Content(), Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(await puppet.NothingArrivesAsync(TimeSpan.FromMilliseconds(300)));
        Assert.Equal(0, puppet.Attempts);
    }

    [Fact]
    public async Task Callback_ForAPuppetFailingTwice_IsRetriedUntilDelivered()
    {
        var corp = new TestCorp();
        var puppet = await corp.RegisterPuppetAsync(Client, app.Puppets);
        puppet.FailNext(2);
        var callback = corp.Callback(puppet.KfId, syncToken: "after-retries");

        using var response = await Client.PostAsync(callback.Path, callback.Content(), Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("after-retries", (await puppet.NextAsync()).Token);
        Assert.Equal(3, puppet.Attempts);
    }

    [Fact]
    public async Task Callback_IsAnsweredWhileThePuppetIsStillBusy()
    {
        var corp = new TestCorp();
        var puppet = await corp.RegisterPuppetAsync(Client, app.Puppets);
        puppet.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var callback = corp.Callback(puppet.KfId, syncToken: "held");

        using var response = await Client.PostAsync(callback.Path, callback.Content(), Ct);

        // WeCom has its answer although the puppet has not answered the forward yet.
        Assert.Equal("success", await response.Content.ReadAsStringAsync(Ct));
        Assert.False(puppet.Gate.Task.IsCompleted);
        puppet.Gate.SetResult();
        Assert.Equal("held", (await puppet.NextAsync()).Token);
    }

    [Fact]
    public async Task Callback_ToAnEndpointWithATrailingSlash_IsForwardedToItsCallbackPath()
    {
        var corp = new TestCorp();
        var puppet = app.Puppets.Add(TestCorp.NewKfId(), corp.CorpId, corp.Token, corp.EncodingAesKey);
        (await Client.PostAsJsonAsync("/puppetWxkfManager/register", corp.Registration(puppet.KfId, puppet.Endpoint + "/"), Ct)).EnsureSuccessStatusCode();
        var callback = corp.Callback(puppet.KfId);

        await Client.PostAsync(callback.Path, callback.Content(), Ct);

        Assert.Equal(callback.Body, (await puppet.NextAsync()).Body);
    }

    [Theory]
    [InlineData("")]
    [InlineData("not xml")]
    [InlineData("<xml><ToUserName>x</ToUserName></xml>")]
    [InlineData("<xml><Encrypt>abc")]
    [InlineData("<?xml version=\"1.0\"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]><xml><Encrypt>&xxe;</Encrypt></xml>")]
    public async Task Callback_WithMalformedBody_IsBadRequest(string body)
    {
        var corp = new TestCorp();
        await corp.RegisterPuppetAsync(Client, app.Puppets);

        using var response = await Client.PostAsync($"/callback/{corp.CorpId}?msg_signature=a&timestamp=1&nonce=2", new StringContent(body), Ct);

        await AssertProblemAsync(response, HttpStatusCode.BadRequest, "XML");
    }

    [Fact]
    public async Task Callback_WithOversizeBody_IsRefused()
    {
        var corp = new TestCorp();
        await corp.RegisterPuppetAsync(Client, app.Puppets);
        var body = "<xml><Encrypt>" + new string('A', 70 * 1024) + "</Encrypt></xml>";

        using var response = await Client.PostAsync($"/callback/{corp.CorpId}?msg_signature=a&timestamp=1&nonce=2", new StringContent(body), Ct);

        await AssertProblemAsync(response, HttpStatusCode.RequestEntityTooLarge, "larger than");
    }

    [Fact]
    public async Task Callback_WithMissingQuery_IsBadRequest()
    {
        var corp = new TestCorp();
        var callback = corp.Callback(TestCorp.NewKfId());

        using var response = await Client.PostAsync($"/callback/{corp.CorpId}?timestamp=1", callback.Content(), Ct);

        await AssertProblemAsync(response, HttpStatusCode.BadRequest, "msg_signature, nonce");
    }

    [Fact]
    public async Task Callback_ForUnknownCorp_IsAnsweredLikeABadSignature()
    {
        var corp = new TestCorp();
        var callback = corp.Callback(TestCorp.NewKfId());

        using var response = await Client.PostAsync(callback.Path, callback.Content(), Ct);

        // Deliberately changed from 404 naming the corp (see UnknownCorpAndBadSignature_AreAnsweredAlike).
        await AssertProblemAsync(response, HttpStatusCode.Forbidden, "msg_signature does not match");
    }

    [Fact]
    public async Task Decrypted_IsForwardedAsJson_AndAnsweredRoger()
    {
        var corp = new TestCorp();
        var puppet = await corp.RegisterPuppetAsync(Client, app.Puppets);

        using var response = await Client.PostAsJsonAsync($"/callback/decrypted/{corp.CorpId}", new { token = "ENC_gateway", openKfId = puppet.KfId }, Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("roger", await response.Content.ReadAsStringAsync(Ct));
        var received = await puppet.NextAsync();
        Assert.EndsWith("/callback/decrypted", received.Path);
        Assert.StartsWith("application/json", received.ContentType);
        Assert.Equal("ENC_gateway", received.Token);
    }

    [Theory]
    [InlineData("{}", "token and openKfId")]
    [InlineData("{\"token\":\"t\"}", "token and openKfId")]
    [InlineData("{\"openKfId\":\"wk\"}", "token and openKfId")]
    [InlineData("{\"token\":5,\"openKfId\":\"wk\"}", "$.token")]
    [InlineData("[1,2]", "JSON object")]
    [InlineData("not json", "JSON object")]
    [InlineData("", "JSON object")]
    public async Task Decrypted_WithBadBody_IsBadRequestWithReason(string body, string reason)
    {
        var corp = new TestCorp();
        await corp.RegisterPuppetAsync(Client, app.Puppets);

        using var response = await Client.PostAsync($"/callback/decrypted/{corp.CorpId}",
            new StringContent(body, System.Text.Encoding.UTF8, "application/json"), Ct);

        await AssertProblemAsync(response, HttpStatusCode.BadRequest, reason);
    }

    [Fact]
    public async Task Decrypted_ForUnknownKfId_IsAnsweredAlike_AndNotStored()
    {
        var corp = new TestCorp();
        await corp.RegisterPuppetAsync(Client, app.Puppets);
        var kfId = TestCorp.NewKfId();

        using var response = await Client.PostAsJsonAsync($"/callback/decrypted/{corp.CorpId}", new { token = "t", openKfId = kfId }, Ct);

        // Deliberately changed from 404: the unsigned path answers the same for known and unknown kfIds.
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("roger", await response.Content.ReadAsStringAsync(Ct));
        var dead = await Client.GetFromJsonAsync<List<System.Text.Json.JsonElement>>("/operator/dead-letters?limit=1000", Ct);
        Assert.DoesNotContain(dead!, d => d.GetProperty("kfId").GetString() == kfId);
    }

    [Fact]
    public async Task Decrypted_ForACorpWithNoPuppets_IsAnsweredAlike_AndNotStored()
    {
        var corp = new TestCorp();
        var puppet = await corp.RegisterPuppetAsync(Client, app.Puppets);

        using var response = await Client.PostAsJsonAsync("/callback/decrypted/wwothercorp", new { token = "t", openKfId = puppet.KfId }, Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("roger", await response.Content.ReadAsStringAsync(Ct));
        Assert.True(await puppet.NothingArrivesAsync(TimeSpan.FromMilliseconds(300)));
        var dead = await Client.GetFromJsonAsync<List<System.Text.Json.JsonElement>>("/operator/dead-letters?limit=1000", Ct);
        Assert.DoesNotContain(dead!, d => d.GetProperty("corpId").GetString() == "wwothercorp");
    }
}

/// <summary>The documentation's sample is signed in 2014: it needs the timestamp window off.</summary>
public sealed class DocumentSampleTests
{
    [Fact]
    public async Task VerifyUrl_WithTheDocumentSample_AnswersTheDecryptedEchostr()
    {
        // Token, key and corp from the WeCom documentation's sample; the corp id is shared, so another
        // test class never registers it.
        var corp = new TestCorp("wx5823bf96d3bd56c7", "QDG6eK", "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C");
        await using var app = new ManagerApp().With("Callback:TimestampTolerance", "00:00:00");
        await app.InitializeAsync();
        var client = app.Client;
        await corp.RegisterPuppetAsync(client, app.Puppets);

        using var response = await client.GetAsync(
            "/callback/wx5823bf96d3bd56c7?msg_signature=5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3&timestamp=1409659589&nonce=263014780" +
            "&echostr=P9nAzCzyDtyTWESHep1vC5X9xho%2FqYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp%2B4RPcs8TgAE7OaBO%2BFZXvnaqQ%3D%3D", Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("1616140317555161061", await response.Content.ReadAsStringAsync(Ct));
    }
}
