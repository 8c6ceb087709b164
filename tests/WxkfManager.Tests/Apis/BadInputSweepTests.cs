using System.Net.Http.Json;
using System.Text;
using WxkfManager.Tests.Infrastructure;

namespace WxkfManager.Tests.Apis;

/// <summary>
/// Junk thrown at every endpoint: each answer is a 4xx (or a pass-through success), never a 5xx, and
/// nothing reaches the registered puppet. Seeded, so a failure replays.
/// </summary>
public sealed class BadInputSweepTests(ManagerApp app) : IClassFixture<ManagerApp>
{
    private const int Seed = 20261123;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly string[] Targets =
    [
        "POST /callback/{corp}?msg_signature={s}&timestamp={t}&nonce={n}",
        "GET /callback/{corp}?msg_signature={s}&timestamp={t}&nonce={n}&echostr={e}",
        "POST /callback/decrypted/{corp}",
        "POST /puppetWxkfManager/register",
        "POST /puppetWxkfManager/deregister",
        "GET /puppetWxkfManager/puppetWxkfInfo/{s}",
        "GET /puppetWxkfManager/getToken?corpid={s}&corpsecret={e}",
    ];

    [Fact]
    public async Task RandomAndMutatedInput_OnEveryEndpoint_IsNeverA5xx_AndForwardsNothing()
    {
        var corp = new TestCorp();
        var puppet = await corp.RegisterPuppetAsync(app.Client, app.Puppets);
        var valid = corp.Callback(puppet.KfId);
        var random = new Random(Seed);
        var failures = new List<string>();

        foreach (var target in Targets)
        {
            for (var i = 0; i < 60; i++)
            {
                var (method, path) = Fill(target, corp.CorpId, random);
                using var request = new HttpRequestMessage(new HttpMethod(method), path);
                if (method == "POST")
                {
                    request.Content = new ByteArrayContent(Body(random, valid.Body));
                    request.Content.Headers.TryAddWithoutValidation("Content-Type", random.Next(3) switch { 0 => "application/json", 1 => "text/xml", _ => "application/octet-stream" });
                }
                using var response = await app.Client.SendAsync(request, Ct);
                if ((int)response.StatusCode >= 500)
                {
                    failures.Add($"{method} {path} -> {(int)response.StatusCode}");
                }
            }
        }

        Assert.Empty(failures);
        Assert.Equal(0, puppet.Attempts);
        Assert.Equal("alive", (await app.Client.GetFromJsonAsync<System.Text.Json.JsonElement>("/health", Ct)).GetProperty("status").GetString());
    }

    private static (string Method, string Path) Fill(string target, string corpId, Random random)
    {
        var parts = target.Split(' ', 2);
        var path = parts[1]
            .Replace("{corp}", random.Next(4) == 0 ? Uri.EscapeDataString(Junk(random, 20)) : corpId)
            .Replace("{s}", Uri.EscapeDataString(Junk(random, 50)))
            .Replace("{t}", Uri.EscapeDataString(Junk(random, 12)))
            .Replace("{n}", Uri.EscapeDataString(Junk(random, 12)))
            .Replace("{e}", Uri.EscapeDataString(Junk(random, 80)));
        return (parts[0], path.Length == 0 ? "/" : path);
    }

    private static byte[] Body(Random random, string validCallback)
    {
        switch (random.Next(6))
        {
            case 0:
                var bytes = new byte[random.Next(0, 2048)];
                random.NextBytes(bytes);
                return bytes;
            case 1:
                var mutated = Encoding.UTF8.GetBytes(validCallback);
                for (var i = 0; i < 1 + random.Next(8); i++)
                {
                    mutated[random.Next(mutated.Length)] = (byte)random.Next(256);
                }
                return mutated;
            case 2:
                return Encoding.UTF8.GetBytes("{\"kfId\":" + Junk(random, 30) + ",\"corpId\":[" + random.Next() + "]}");
            case 3:
                return Encoding.UTF8.GetBytes($"{{\"token\":\"{Junk(random, 10)}\",\"openKfId\":\"{Junk(random, 10)}\",\"kfName\":{{\"nested\":[1,2,{{}}]}}}}");
            case 4:
                return Encoding.UTF8.GetBytes("<xml><Encrypt><![CDATA[" + Junk(random, 200) + "]]></Encrypt></xml>");
            default:
                return Encoding.UTF8.GetBytes(new string('[', random.Next(1, 5000)));
        }
    }

    private static string Junk(Random random, int maxLength)
    {
        var alphabet = "aZ09+/=%&?#<>\"'\\ \u0000\u00e9\u5ba2\ud83d\ude00{}[]:,.-_";
        var length = random.Next(0, maxLength);
        var builder = new StringBuilder(length);
        for (var i = 0; i < length; i++)
        {
            builder.Append(alphabet[random.Next(alphabet.Length)]);
        }
        return builder.ToString();
    }
}
