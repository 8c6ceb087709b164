using System.Net.Http.Headers;
using System.Text;

namespace WxkfManager.Tests.Security;

/// <summary>The unsigned /callback/decrypted path cannot flood the store, list corps or kfIds, or carry junk to puppets.</summary>
public sealed class GatewayPathTests(ManagerApp app) : IClassFixture<ManagerApp>
{
    [Fact]
    public async Task AnOversizedBody_IsPayloadTooLarge_AndNotStored()
    {
        var corp = new TestCorp();
        var puppet = await corp.RegisterPuppetAsync(app.Client, app.Puppets);
        var body = JsonSerializer.Serialize(new { token = "ENC" + new string('A', 2100), openKfId = puppet.KfId });

        using var response = await app.Client.PostAsync($"/callback/decrypted/{corp.CorpId}", new StringContent(body, Encoding.UTF8, "application/json"), Ct);

        await Problems.AssertProblemAsync(response, HttpStatusCode.RequestEntityTooLarge, "2048");
        Assert.True(await puppet.NothingArrivesAsync(TimeSpan.FromMilliseconds(300)));
    }

    [Theory]
    [InlineData("ENC token", "wk0123456789", "token must be")]
    [InlineData("ENC\"}", "wk0123456789", "token must be")]
    [InlineData("ENCabc", "kf0123456789", "openKfId must be")]
    [InlineData("ENCabc", "wk01234/../x", "openKfId must be")]
    public async Task BadTokenOrOpenKfIdFormats_AreBadRequest(string token, string openKfId, string reason)
    {
        var corp = new TestCorp();
        await corp.RegisterPuppetAsync(app.Client, app.Puppets);

        using var response = await app.Client.PostAsJsonAsync($"/callback/decrypted/{corp.CorpId}", new { token, openKfId }, Ct);

        await Problems.AssertProblemAsync(response, HttpStatusCode.BadRequest, reason);
    }

    [Fact]
    public async Task OnlyTheTokenAndOpenKfId_AreStoredAndForwarded()
    {
        var corp = new TestCorp();
        var puppet = await corp.RegisterPuppetAsync(app.Client, app.Puppets);
        var body = JsonSerializer.Serialize(new { token = "ENCsync", openKfId = puppet.KfId, padding = new string('x', 1500), nested = new { a = new[] { 1, 2, 3 } } });

        using var response = await app.Client.PostAsync($"/callback/decrypted/{corp.CorpId}", new StringContent(body, Encoding.UTF8, "application/json"), Ct);

        Assert.Equal("roger", await response.Content.ReadAsStringAsync(Ct));
        Assert.Equal($$"""{"token":"ENCsync","openKfId":"{{puppet.KfId}}"}""", (await puppet.NextAsync()).Body);
    }

    [Fact]
    public async Task KnownAndUnknownKfIds_AreAnsweredAlike()
    {
        var corp = new TestCorp();
        var puppet = await corp.RegisterPuppetAsync(app.Client, app.Puppets);

        using var known = await app.Client.PostAsJsonAsync($"/callback/decrypted/{corp.CorpId}", new { token = "ENCa", openKfId = puppet.KfId }, Ct);
        using var unknownKf = await app.Client.PostAsJsonAsync($"/callback/decrypted/{corp.CorpId}", new { token = "ENCb", openKfId = TestCorp.NewKfId() }, Ct);
        using var unknownCorp = await app.Client.PostAsJsonAsync($"/callback/decrypted/{new TestCorp().CorpId}", new { token = "ENCc", openKfId = puppet.KfId }, Ct);

        foreach (var response in new[] { known, unknownKf, unknownCorp })
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
            Assert.Equal("roger", await response.Content.ReadAsStringAsync(Ct));
        }
        Assert.Equal("ENCa", (await puppet.NextAsync()).Token);
        Assert.True(await puppet.NothingArrivesAsync(TimeSpan.FromMilliseconds(300)));
    }

    [Fact]
    public async Task UnknownCorpAndBadSignature_AreAnsweredAlike_ThePostAndTheUrlCheck()
    {
        var corp = new TestCorp();
        var puppet = await corp.RegisterPuppetAsync(app.Client, app.Puppets);
        var registered = corp.Callback(puppet.KfId);
        var badSignature = registered.Path.Replace(registered.Signature, new string('0', 40));
        var stranger = new TestCorp();
        var unknown = stranger.Callback(TestCorp.NewKfId());
        var unknownWithSameQuery = badSignature.Replace(corp.CorpId, stranger.CorpId);

        using var forged = await app.Client.PostAsync(badSignature, registered.Content(), Ct);
        using var toUnknown = await app.Client.PostAsync(unknownWithSameQuery, unknown.Content(), Ct);
        using var verifyForged = await app.Client.GetAsync(badSignature + "&echostr=abc", Ct);
        using var verifyUnknown = await app.Client.GetAsync(unknownWithSameQuery + "&echostr=abc", Ct);

        var answers = new List<string>();
        foreach (var response in new[] { forged, toUnknown, verifyForged, verifyUnknown })
        {
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            answers.Add(WithoutTraceId(await response.Content.ReadAsStringAsync(Ct)));
        }
        Assert.Single(answers.Distinct());
        Assert.DoesNotContain(stranger.CorpId, answers[0]);
    }

    [Fact]
    public async Task APuppetsQueueCap_Answers503WithRetryAfter_AndLosesNothingItAcknowledged()
    {
        await using var capped = new ManagerApp().With("Callback:MaxQueuedPerPuppet", "3");
        await capped.InitializeAsync();
        var corp = new TestCorp();
        var puppet = await corp.RegisterPuppetAsync(capped.Client, capped.Puppets);
        var other = await corp.RegisterPuppetAsync(capped.Client, capped.Puppets);
        // The puppet holds its first delivery: everything queued behind it waits.
        puppet.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var acknowledged = new List<string>();
        var refused = new List<HttpResponseMessage>();

        for (var i = 0; i < 6; i++)
        {
            // Both paths count against the same cap: encrypted callbacks first, then the gateway's.
            var callback = corp.Callback(puppet.KfId, syncToken: $"ENC{i}");
            var response = i < 4
                ? await capped.Client.PostAsync(callback.Path, callback.Content(), Ct)
                : await capped.Client.PostAsJsonAsync($"/callback/decrypted/{corp.CorpId}", new { token = $"ENC{i}", openKfId = puppet.KfId }, Ct);
            if (response.IsSuccessStatusCode)
            {
                acknowledged.Add($"ENC{i}");
                response.Dispose();
            }
            else
            {
                refused.Add(response);
            }
        }

        Assert.Equal(["ENC0", "ENC1", "ENC2"], acknowledged);
        Assert.Equal(3, refused.Count);
        foreach (var response in refused)
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Equal(TimeSpan.FromSeconds(30), response.Headers.RetryAfter?.Delta);
            Assert.Contains("queue is full", await response.Content.ReadAsStringAsync(Ct));
            response.Dispose();
        }
        // Another puppet's queue is its own.
        var toOther = corp.Callback(other.KfId, syncToken: "other");
        (await capped.Client.PostAsync(toOther.Path, toOther.Content(), Ct)).EnsureSuccessStatusCode();
        Assert.Equal("other", (await other.NextAsync()).Token);

        puppet.Gate.SetResult();
        var delivered = new List<string?>();
        for (var i = 0; i < 3; i++)
        {
            delivered.Add((await puppet.NextAsync()).Token);
        }
        Assert.Equal(acknowledged, delivered.Order());
        Assert.True(await puppet.NothingArrivesAsync(TimeSpan.FromMilliseconds(300)));
    }

    [Fact]
    public async Task TheGatewayPath_CanBeClosedToAKeyAndToNetworks()
    {
        const string gatewayKey = "gateway-key-0123456789abcdef";
        await using var keyed = new ManagerApp().With("MANAGER_GATEWAY_KEY", gatewayKey);
        await keyed.InitializeAsync();
        var corp = new TestCorp();
        var puppet = await corp.RegisterPuppetAsync(keyed.Client, keyed.Puppets);

        using var anonymous = await keyed.Client.PostAsJsonAsync($"/callback/decrypted/{corp.CorpId}", new { token = "ENCx", openKfId = puppet.KfId }, Ct);
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/callback/decrypted/{corp.CorpId}")
        {
            Content = JsonContent.Create(new { token = "ENCy", openKfId = puppet.KfId }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", gatewayKey);
        using var gateway = await keyed.Client.SendAsync(request, Ct);

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.OK, gateway.StatusCode);
        Assert.Equal("ENCy", (await puppet.NextAsync()).Token);

        await using var fenced = new ManagerApp().With("DECRYPTED_CALLBACK_NETWORKS", "10.0.0.0/8");
        await fenced.InitializeAsync();
        using var outside = await fenced.Client.PostAsJsonAsync($"/callback/decrypted/{corp.CorpId}", new { token = "ENCz", openKfId = puppet.KfId }, Ct);
        Assert.Equal(HttpStatusCode.Forbidden, outside.StatusCode);
        // Signed callbacks are not the gateway's path: they stay open.
        Assert.Equal(HttpStatusCode.OK, (await fenced.Client.GetAsync("/health", Ct)).StatusCode);
    }

    [Theory]
    [InlineData("/callback/ww-x?msg_signature=a&timestamp=1&nonce=2")]
    [InlineData("/callback/ww%20x?msg_signature=a&timestamp=1&nonce=2")]
    [InlineData("/callback/decrypted/ww.x")]
    public async Task CorpIds_NotInWeComsFormat_AreBadRequest(string path)
    {
        using var response = await app.Client.PostAsync(path, new StringContent("{}", Encoding.UTF8, "application/json"), Ct);

        await Problems.AssertProblemAsync(response, HttpStatusCode.BadRequest, "corpId must be");
    }

    private static string WithoutTraceId(string json)
    {
        var node = System.Text.Json.Nodes.JsonNode.Parse(json)!.AsObject();
        node.Remove("traceId");
        return node.ToJsonString();
    }
}
