using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using WxkfManager.Security;

namespace WxkfManager.Tests.Security;

public sealed class SecretProtectorTests
{
    private static readonly string Key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    [Fact]
    public void Protect_ThenUnprotect_RoundTrips_AndHidesThePlaintext()
    {
        var protector = new SecretProtector(Key);

        var stored = protector.Protect("corp-secret-客服");

        Assert.StartsWith(SecretProtector.Prefix, stored);
        Assert.DoesNotContain("corp-secret", stored);
        Assert.NotEqual(stored, protector.Protect("corp-secret-客服"));
        Assert.Equal("corp-secret-客服", protector.Unprotect(stored));
    }

    [Fact]
    public void Unprotect_OfAValueStoredBeforeTheKeyWasSet_ReturnsItAsIs()
    {
        Assert.Equal("plain-old-secret", new SecretProtector(Key).Unprotect("plain-old-secret"));
    }

    [Fact]
    public void Unprotect_OfATamperedValue_Throws()
    {
        var protector = new SecretProtector(Key);
        var stored = protector.Protect("secret");
        var bytes = Convert.FromBase64String(stored[SecretProtector.Prefix.Length..]);
        bytes[^1] ^= 1;

        Assert.ThrowsAny<CryptographicException>(() => protector.Unprotect(SecretProtector.Prefix + Convert.ToBase64String(bytes)));
    }

    [Fact]
    public void Unprotect_WithAnotherKey_Throws()
    {
        var stored = new SecretProtector(Key).Protect("secret");

        Assert.ThrowsAny<CryptographicException>(() => new SecretProtector(Convert.ToBase64String(RandomNumberGenerator.GetBytes(32))).Unprotect(stored));
    }
}

/// <summary>
/// Registers a puppet with recognisable secrets, drives every endpoint (failures too), then searches
/// every answer and every log line written for the secret strings.
/// </summary>
public sealed class SecretLeakTests
{
    [Fact]
    public async Task Secrets_NeverAppearInAnswersOrLogs_AndAreEncryptedAtRest()
    {
        var encryptionKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        var corp = new TestCorp(token: "TOKENleak" + Guid.NewGuid().ToString("N")[..12]);
        var secrets = new[] { corp.CorpSecret, corp.Token, corp.EncodingAesKey };
        var answers = new StringBuilder();
        string dataDirectory;
        string logDirectory;
        PuppetStub.Puppet puppet;

        await using (var app = new ManagerApp().With("SECRETS_ENCRYPTION_KEY", encryptionKey).With("Delivery:MaxAge", "00:00:01"))
        {
            await app.InitializeAsync();
            dataDirectory = app.DataDirectory;
            logDirectory = app.LogDirectory;
            var client = app.Client;
            async Task Drive(HttpRequestMessage request)
            {
                using var response = await client.SendAsync(request, Ct);
                answers.AppendLine(response.ToString()).AppendLine(await response.Content.ReadAsStringAsync(Ct));
            }
            HttpRequestMessage Json(string method, string path, object body) => new(new HttpMethod(method), path) { Content = JsonContent.Create(body) };

            puppet = await corp.RegisterPuppetAsync(client, app.Puppets);
            var registration = corp.Registration(puppet.KfId, puppet.Endpoint);
            await Drive(Json("POST", "/puppetWxkfManager/register", registration));
            await Drive(Json("POST", "/puppetWxkfManager/register", new { kfId = "bad id", kfName = "x", endpoint = "ftp://x", corpId = corp.CorpId, corpSecret = corp.CorpSecret, token = corp.Token, encodingAESKey = corp.EncodingAesKey + "!" }));
            await Drive(Json("POST", "/puppetWxkfManager/register", new { kfId = corp.CorpSecret, kfName = corp.Token, endpoint = "http://" + corp.EncodingAesKey }));
            await Drive(new HttpRequestMessage(HttpMethod.Get, $"/puppetWxkfManager/puppetWxkfInfo/{puppet.KfId}"));
            await Drive(new HttpRequestMessage(HttpMethod.Get, $"/puppetWxkfManager/getToken?corpid={corp.CorpId}&corpsecret={corp.CorpSecret}"));
            await Drive(new HttpRequestMessage(HttpMethod.Get, $"/puppetWxkfManager/getToken?corpid={corp.CorpId}"));
            await Drive(new HttpRequestMessage(HttpMethod.Get, "/puppetWxkfManager/wxkfRequestProxy/kf/account/list?access_token=abc"));
            await Drive(new HttpRequestMessage(HttpMethod.Get, "/puppetWxkfManager/wxkfRequestProxy/..%2Fetc%2Fpasswd"));
            var callback = corp.Callback(puppet.KfId);
            await Drive(new HttpRequestMessage(HttpMethod.Post, callback.Path) { Content = callback.Content() });
            await Drive(new HttpRequestMessage(HttpMethod.Post, callback.Path.Replace(callback.Signature, corp.Token.PadRight(40, '0')[..40])) { Content = callback.Content() });
            var echo = corp.Crypto.Seal("echo", corp.CorpId, callback.Timestamp, "7");
            await Drive(new HttpRequestMessage(HttpMethod.Get, $"/callback/{corp.CorpId}?msg_signature={echo.Signature}&timestamp={echo.Timestamp}&nonce=7&echostr={Uri.EscapeDataString(echo.Encrypt)}"));
            await Drive(Json("POST", $"/callback/decrypted/{corp.CorpId}", new { token = "t", openKfId = puppet.KfId }));
            puppet.Failing = true;
            var failing = corp.Callback(puppet.KfId);
            await Drive(new HttpRequestMessage(HttpMethod.Post, failing.Path) { Content = failing.Content() });
            // Past its one-second age limit the failing event is a dead letter: the answers below then show one.
            await Eventually.WaitForAsync<bool>(async () =>
                (await client.GetFromJsonAsync<List<JsonElement>>("/operator/dead-letters", Ct))!.Any(d => d.GetProperty("kfId").GetString() == puppet.KfId) ? true : null);
            foreach (var path in new[] { "/operator/queue", "/operator/puppets", "/operator/dead-letters", "/ready", "/health", "/swagger/v1/swagger.json" })
            {
                await Drive(new HttpRequestMessage(HttpMethod.Get, path));
            }
            await Drive(new HttpRequestMessage(HttpMethod.Post, "/operator/dead-letters/replay"));
            // The operator console: its pages, assets and JSON, and a simulated event signed with the puppet's own secrets.
            await Drive(new HttpRequestMessage(HttpMethod.Post, $"/operator/puppets/{puppet.KfId}/test-event?waitSeconds=1"));
            var consoleTestEvent = new HttpRequestMessage(HttpMethod.Post, $"/console/api/puppets/{puppet.KfId}/test-event?waitSeconds=1");
            consoleTestEvent.Headers.Add(WxkfManager.OperatorConsole.ConsoleAuthentication.RequestHeader, "1");
            await Drive(consoleTestEvent);
            foreach (var path in new[]
            {
                "/console/fleet", "/console/queue", "/console/live", "/console/tokens", "/console/assets/console.js", "/console/assets/console.css",
                "/console/api/session", "/console/api/fleet", "/console/api/queue", "/console/api/dead-letters", "/console/api/live", "/console/api/tokens",
                "/operator/fleet", "/operator/queue/overview", "/operator/live", "/operator/tokens",
            })
            {
                await Drive(new HttpRequestMessage(HttpMethod.Get, path));
            }
            await Drive(Json("POST", "/puppetWxkfManager/deregister", new { kfId = puppet.KfId, corpId = corp.CorpId }));
            Assert.Equal("echo", (await client.GetStringAsync($"/callback/{corp.CorpId}?msg_signature={echo.Signature}&timestamp={echo.Timestamp}&nonce=7&echostr={Uri.EscapeDataString(echo.Encrypt)}", Ct)));
        }

        var logs = string.Join('\n', Directory.GetFiles(logDirectory).Select(File.ReadAllText));
        Assert.Contains(puppet.KfId, logs);
        Assert.Contains(puppet.KfId, answers.ToString());
        foreach (var secret in secrets)
        {
            Assert.DoesNotContain(secret, answers.ToString());
            Assert.DoesNotContain(secret, logs);
        }

        // At rest: the database file (and its WAL) holds none of the secrets in the clear.
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        var stored = Directory.GetFiles(dataDirectory).Select(f => Encoding.UTF8.GetString(File.ReadAllBytes(f))).ToList();
        Assert.Contains(stored, content => content.Contains(SecretProtector.Prefix));
        foreach (var secret in secrets)
        {
            Assert.DoesNotContain(stored, content => content.Contains(secret));
        }
    }

    [Fact]
    public async Task EncryptedSecrets_SurviveARestart_AndStillVerifyCallbacks()
    {
        var encryptionKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        await using var puppets = await PuppetStub.StartAsync();
        var corp = new TestCorp();
        var puppet = puppets.Add(TestCorp.NewKfId(), corp.CorpId, corp.Token, corp.EncodingAesKey);
        string dataDirectory;
        await using (var first = new ManagerApp().With("SECRETS_ENCRYPTION_KEY", encryptionKey))
        {
            await first.InitializeAsync();
            dataDirectory = first.DataDirectory;
            (await first.Client.PostAsJsonAsync("/puppetWxkfManager/register", corp.Registration(puppet.KfId, puppet.Endpoint), Ct)).EnsureSuccessStatusCode();
        }

        await using var second = new ManagerApp { DataDirectory = dataDirectory }.With("SECRETS_ENCRYPTION_KEY", encryptionKey);
        await second.InitializeAsync();
        var callback = corp.Callback(puppet.KfId, syncToken: "decrypted-secrets");
        using var response = await second.Client.PostAsync(callback.Path, callback.Content(), Ct);

        Assert.Equal("success", await response.Content.ReadAsStringAsync(Ct));
        Assert.Equal("decrypted-secrets", (await puppet.NextAsync()).Token);
    }
}
