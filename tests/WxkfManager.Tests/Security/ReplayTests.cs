using WxkfManager.Crypto;

namespace WxkfManager.Tests.Security;

public sealed class ReplayTests(ManagerApp app) : IClassFixture<ManagerApp>
{
    [Theory]
    [InlineData(-3600)]
    [InlineData(-301)]
    [InlineData(3600)]
    public async Task ACallbackSignedOutsideTheWindow_IsRefused_AndNotForwarded(int offsetSeconds)
    {
        var corp = new TestCorp();
        var puppet = await corp.RegisterPuppetAsync(app.Client, app.Puppets);
        var timestamp = (DateTimeOffset.UtcNow.ToUnixTimeSeconds() + offsetSeconds).ToString();
        var inner = new CallbackEvent(corp.CorpId, timestamp, "event", CallbackEvent.KfMessageOrEvent, "ENCold", puppet.KfId).ToXml();
        var sealedMessage = corp.Crypto.Seal(inner, corp.CorpId, timestamp, "n1");
        var body = new CallbackEnvelope(corp.CorpId, "1", sealedMessage.Encrypt).ToXml();

        using var response = await app.Client.PostAsync(
            $"/callback/{corp.CorpId}?msg_signature={sealedMessage.Signature}&timestamp={timestamp}&nonce=n1", new StringContent(body), Ct);

        await Problems.AssertProblemAsync(response, HttpStatusCode.BadRequest, "timestamp is outside the allowed window");
        Assert.True(await puppet.NothingArrivesAsync(TimeSpan.FromMilliseconds(300)));
    }

    [Fact]
    public async Task ANonNumericTimestamp_IsRefused()
    {
        var corp = new TestCorp();
        var puppet = await corp.RegisterPuppetAsync(app.Client, app.Puppets);
        var callback = corp.Callback(puppet.KfId);

        using var response = await app.Client.PostAsync(callback.Path.Replace($"timestamp={callback.Timestamp}", "timestamp=soon"), callback.Content(), Ct);

        await Problems.AssertProblemAsync(response, HttpStatusCode.BadRequest, "Unix seconds");
    }

    [Fact]
    public async Task AReplayInsideTheWindow_IsAnsweredAsTheResendItLooksLike_AndForwardsNothingNew()
    {
        var corp = new TestCorp();
        var puppet = await corp.RegisterPuppetAsync(app.Client, app.Puppets);
        var callback = corp.Callback(puppet.KfId, syncToken: "captured");
        await app.Client.PostAsync(callback.Path, callback.Content(), Ct);
        Assert.Equal("captured", (await puppet.NextAsync()).Token);

        for (var i = 0; i < 5; i++)
        {
            using var replay = await app.Client.PostAsync(callback.Path, callback.Content(), Ct);
            Assert.Equal("success", await replay.Content.ReadAsStringAsync(Ct));
        }

        Assert.True(await puppet.NothingArrivesAsync(TimeSpan.FromSeconds(1)));
    }
}
