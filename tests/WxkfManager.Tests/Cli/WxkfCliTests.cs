using WxkfManager.Cli;
using WxkfManager.Crypto;

namespace WxkfManager.Tests.Cli;

/// <summary>The wxkf command against a running manager, as README's examples use it.</summary>
public sealed class WxkfCliTests(ManagerApp app) : IClassFixture<ManagerApp>
{
    private string ManagerUrl => app.Client.BaseAddress!.ToString();

    private static async Task<(int ExitCode, string Output, string Error)> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exitCode = await WxkfCli.RunAsync(args, output, error, handler: null, TimeProvider.System);
        return (exitCode, output.ToString().Trim(), error.ToString().Trim());
    }

    [Fact]
    public async Task SendCallback_IsAcceptedByTheManager_AndReachesThePuppet()
    {
        var corp = new TestCorp();
        var puppet = await corp.RegisterPuppetAsync(app.Client, app.Puppets);

        var (exitCode, output, _) = await RunAsync("send-callback", "--url", ManagerUrl, "--corp-id", corp.CorpId, "--token", corp.Token,
            "--aes-key", corp.EncodingAesKey, "--open-kf-id", puppet.KfId, "--sync-token", "ENC-from-cli");

        Assert.Equal(0, exitCode);
        Assert.Equal("200 success", output);
        Assert.Equal("ENC-from-cli", (await puppet.NextAsync()).Token);
    }

    [Fact]
    public async Task SendCallback_WithTheWrongToken_ReportsTheRefusal_AndExits1()
    {
        var corp = new TestCorp();
        var puppet = await corp.RegisterPuppetAsync(app.Client, app.Puppets);

        var (exitCode, output, _) = await RunAsync("send-callback", "--url", ManagerUrl, "--corp-id", corp.CorpId, "--token", "not-the-token",
            "--aes-key", corp.EncodingAesKey, "--open-kf-id", puppet.KfId);

        Assert.Equal(1, exitCode);
        Assert.StartsWith("403 ", output);
    }

    [Fact]
    public async Task VerifyUrl_GetsTheEchoBack()
    {
        var corp = new TestCorp();
        await corp.RegisterPuppetAsync(app.Client, app.Puppets);

        var (exitCode, output, _) = await RunAsync("verify-url", "--url", ManagerUrl, "--corp-id", corp.CorpId, "--token", corp.Token,
            "--aes-key", corp.EncodingAesKey, "--echo", "hello-wecom");

        Assert.Equal(0, exitCode);
        Assert.Equal("200 hello-wecom", output);
    }

    [Fact]
    public async Task SignCallback_PrintsWhatWeComCryptoOpens()
    {
        var corp = new TestCorp();

        var (exitCode, output, _) = await RunAsync("sign-callback", "--corp-id", corp.CorpId, "--token", corp.Token,
            "--aes-key", corp.EncodingAesKey, "--open-kf-id", "wk-open", "--sync-token", "ENC-signed", "--timestamp", "1700000000", "--nonce", "42");

        Assert.Equal(0, exitCode);
        var signed = JsonDocument.Parse(output).RootElement;
        Assert.Equal("1700000000", signed.GetProperty("timestamp").GetString());
        Assert.Equal("42", signed.GetProperty("nonce").GetString());
        Assert.Equal($"/callback/{corp.CorpId}", signed.GetProperty("path").GetString());
        var envelope = CallbackEnvelope.TryParse(signed.GetProperty("body").GetString())!;
        var opened = corp.Crypto.Open(signed.GetProperty("msg_signature").GetString(), "1700000000", "42", envelope.Encrypt, corp.CorpId);
        Assert.True(opened.IsOk);
        var kfEvent = CallbackEvent.TryParse(opened.Message)!;
        Assert.True(kfEvent.IsKfMessageOrEvent);
        Assert.Equal("wk-open", kfEvent.OpenKfId);
        Assert.Equal("ENC-signed", kfEvent.Token);
        Assert.Contains($"msg_signature={signed.GetProperty("msg_signature").GetString()}&timestamp=1700000000&nonce=42", signed.GetProperty("query").GetString());
    }

    [Theory]
    [InlineData(new[] { "send-callback", "--corp-id", "ww1" }, "--url")]
    [InlineData(new[] { "sign-callback", "--corp-id", "ww1", "--token", "t", "--open-kf-id", "wk" }, "--aes-key")]
    [InlineData(new[] { "sign-callback", "--corp-id", "ww1", "--token", "t", "--aes-key", "short", "--open-kf-id", "wk" }, "aes-key")]
    [InlineData(new[] { "sign-callback", "--bogus", "x" }, "--bogus")]
    [InlineData(new[] { "frobnicate" }, "frobnicate")]
    public async Task BadUsage_ExitsWith2_NamingTheProblem(string[] args, string named)
    {
        var (exitCode, _, error) = await RunAsync(args);

        Assert.Equal(2, exitCode);
        Assert.Contains(named, error);
    }

    [Fact]
    public async Task SendCallback_ToAManagerThatIsDown_SaysSo()
    {
        var corp = new TestCorp();

        var (exitCode, _, error) = await RunAsync("send-callback", "--url", $"http://127.0.0.1:{StubServer.FreePort()}", "--corp-id", corp.CorpId,
            "--token", corp.Token, "--aes-key", corp.EncodingAesKey, "--open-kf-id", "wk1");

        Assert.Equal(1, exitCode);
        Assert.Contains("did not answer", error);
    }
}
