using System.Text;
using System.Text.Json;
using WxkfManager.Crypto;

namespace WxkfManager.Cli;

/// <summary>
/// Plays WeCom's part against a manager: signs and encrypts a kf_msg_or_event callback (sign-callback),
/// also POSTs it (send-callback), or runs the URL verification GET (verify-url). Exit code 0 when the
/// manager accepted, 1 when it refused, 2 on bad usage.
/// </summary>
public static class WxkfCli
{
    // Shell-pasteable: &, < and > stay as they are instead of \u0026 escapes.
    private static readonly JsonSerializerOptions SignedJson = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static readonly HashSet<string> CredentialOptions = ["corp-id", "token", "aes-key"];
    private static readonly HashSet<string> SignOptions = [.. CredentialOptions, "open-kf-id", "sync-token", "timestamp", "nonce"];
    private static readonly HashSet<string> SendOptions = [.. SignOptions, "url"];
    private static readonly HashSet<string> VerifyOptions = [.. CredentialOptions, "url", "echo", "timestamp", "nonce"];

    public const string Usage = """
        wxkf: sign, send and verify WeCom callbacks, as WeCom does.

          wxkf sign-callback --corp-id ID --token TOKEN --aes-key KEY --open-kf-id KFID [--sync-token T] [--timestamp UNIX] [--nonce N]
              Prints the signed query string and the encrypted XML body of a kf_msg_or_event callback, as JSON.
          wxkf send-callback --url MANAGER --corp-id ID --token TOKEN --aes-key KEY --open-kf-id KFID [--sync-token T]
              Signs the same callback and POSTs it to MANAGER/callback/ID; prints the status and the answer.
          wxkf verify-url --url MANAGER --corp-id ID --token TOKEN --aes-key KEY [--echo TEXT]
              WeCom's URL verification: GET MANAGER/callback/ID with an encrypted echostr; checks the answer.

        MANAGER is the manager's base URL (http://localhost:3000). The timestamp defaults to now, so the
        manager's timestamp window accepts it.
        """;

    public static Task<int> Main(string[] args) => RunAsync(args, Console.Out, Console.Error, null, TimeProvider.System);

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, HttpMessageHandler? handler, TimeProvider time)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
        {
            await output.WriteLineAsync(Usage);
            return args.Length == 0 ? 2 : 0;
        }
        var rest = args.Skip(1).ToList();
        switch (args[0])
        {
            case "sign-callback":
                return await SignAsync(rest, output, error, time);
            case "send-callback":
                return await SendAsync(rest, output, error, handler, time);
            case "verify-url":
                return await VerifyAsync(rest, output, error, handler, time);
            default:
                await error.WriteLineAsync($"wxkf: unknown command '{args[0]}'; commands: sign-callback, send-callback, verify-url (wxkf --help)");
                return 2;
        }
    }

    private static async Task<int> SignAsync(List<string> args, TextWriter output, TextWriter error, TimeProvider time)
    {
        var callback = await TryBuildCallbackAsync(args, SignOptions, error, time);
        if (callback is null)
        {
            return 2;
        }
        await output.WriteLineAsync(JsonSerializer.Serialize(new
        {
            query = callback.RelativeUrl[(callback.RelativeUrl.IndexOf('?') + 1)..],
            path = "/" + callback.RelativeUrl[..callback.RelativeUrl.IndexOf('?')],
            msg_signature = callback.MsgSignature,
            timestamp = callback.Timestamp,
            nonce = callback.Nonce,
            body = callback.Body,
        }, SignedJson));
        return 0;
    }

    private static async Task<int> SendAsync(List<string> args, TextWriter output, TextWriter error, HttpMessageHandler? handler, TimeProvider time)
    {
        var parsed = await TryParseAsync(args, SendOptions, error);
        var callback = parsed is null ? null : await TryBuildCallbackAsync(args, SendOptions, error, time);
        var manager = parsed is null ? null : await TryManagerUrlAsync(parsed, error);
        if (callback is null || manager is null)
        {
            return 2;
        }
        using var client = CreateClient(handler);
        using var content = new StringContent(callback.Body!, Encoding.UTF8, "text/xml");
        return await ReportAsync(() => client.PostAsync(new Uri(manager, callback.RelativeUrl), content), output, error, expected: "success");
    }

    private static async Task<int> VerifyAsync(List<string> args, TextWriter output, TextWriter error, HttpMessageHandler? handler, TimeProvider time)
    {
        var parsed = await TryParseAsync(args, VerifyOptions, error);
        if (parsed is null)
        {
            return 2;
        }
        var missing = new List<string>();
        var (corpId, crypto) = Credentials(parsed, missing);
        var manager = await TryManagerUrlAsync(parsed, error);
        if (!await ReportMissingAsync(missing, error) || crypto is null || manager is null)
        {
            return 2;
        }
        var echo = parsed.Optional("echo") ?? "wxkf-" + Guid.NewGuid().ToString("N")[..12];
        var verification = WeComCallback.UrlVerification(crypto, corpId, echo, Now(parsed, time), parsed.Optional("nonce"));
        using var client = CreateClient(handler);
        return await ReportAsync(() => client.GetAsync(new Uri(manager, verification.RelativeUrl)), output, error, expected: echo);
    }

    private static async Task<WeComCallback?> TryBuildCallbackAsync(List<string> args, HashSet<string> allowed, TextWriter error, TimeProvider time)
    {
        var parsed = await TryParseAsync(args, allowed, error);
        if (parsed is null)
        {
            return null;
        }
        var missing = new List<string>();
        var (corpId, crypto) = Credentials(parsed, missing);
        var openKfId = parsed.Required("open-kf-id", missing);
        if (!await ReportMissingAsync(missing, error) || crypto is null)
        {
            return null;
        }
        var syncToken = parsed.Optional("sync-token") ?? "ENC" + Guid.NewGuid().ToString("N");
        return WeComCallback.KfMessageOrEvent(crypto, corpId, openKfId, syncToken, Now(parsed, time), parsed.Optional("nonce"));
    }

    private static (string CorpId, WeComCrypto? Crypto) Credentials(CliArguments parsed, List<string> missing)
    {
        var corpId = parsed.Required("corp-id", missing);
        var token = parsed.Required("token", missing);
        var aesKey = parsed.Required("aes-key", missing);
        if (missing.Count > 0)
        {
            return (corpId, null);
        }
        if (!EncodingAesKey.TryParse(aesKey, out var key, out var keyError))
        {
            missing.Add($"a valid --aes-key ({keyError})");
            return (corpId, null);
        }
        return (corpId, new WeComCrypto(token, key!));
    }

    private static DateTimeOffset Now(CliArguments parsed, TimeProvider time) =>
        long.TryParse(parsed.Optional("timestamp"), out var unix) ? DateTimeOffset.FromUnixTimeSeconds(unix) : time.GetUtcNow();

    private static async Task<CliArguments?> TryParseAsync(List<string> args, HashSet<string> allowed, TextWriter error)
    {
        var parsed = CliArguments.TryParse(args, allowed, out var problem);
        if (parsed is null)
        {
            await error.WriteLineAsync($"wxkf: {problem} (wxkf --help)");
        }
        else if (parsed.Optional("timestamp") is { } timestamp && !long.TryParse(timestamp, out _))
        {
            await error.WriteLineAsync($"wxkf: --timestamp must be Unix seconds, got '{timestamp}'");
            return null;
        }
        return parsed;
    }

    private static async Task<Uri?> TryManagerUrlAsync(CliArguments parsed, TextWriter error)
    {
        var text = parsed.Optional("url");
        if (text is null || !Uri.TryCreate(text.EndsWith('/') ? text : text + "/", UriKind.Absolute, out var url)
            || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
        {
            await error.WriteLineAsync($"wxkf: --url must be the manager's base URL, e.g. http://localhost:3000, got '{text}'");
            return null;
        }
        return url;
    }

    private static async Task<bool> ReportMissingAsync(List<string> missing, TextWriter error)
    {
        if (missing.Count == 0)
        {
            return true;
        }
        await error.WriteLineAsync($"wxkf: required: {string.Join(", ", missing)} (wxkf --help)");
        return false;
    }

    private static HttpClient CreateClient(HttpMessageHandler? handler) =>
        handler is null ? new HttpClient { Timeout = TimeSpan.FromSeconds(30) } : new HttpClient(handler, disposeHandler: false);

    private static async Task<int> ReportAsync(Func<Task<HttpResponseMessage>> send, TextWriter output, TextWriter error, string expected)
    {
        HttpResponseMessage response;
        try
        {
            response = await send();
        }
        catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException)
        {
            await error.WriteLineAsync($"wxkf: the manager did not answer: {exception.Message}");
            return 1;
        }
        using (response)
        {
            var body = await response.Content.ReadAsStringAsync();
            await output.WriteLineAsync($"{(int)response.StatusCode} {body}");
            return response.IsSuccessStatusCode && body == expected ? 0 : 1;
        }
    }
}
