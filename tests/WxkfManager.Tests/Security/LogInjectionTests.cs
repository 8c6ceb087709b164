using System.Text;
using System.Text.RegularExpressions;
using Serilog.Events;
using Serilog.Formatting.Display;
using Serilog.Parsing;
using WxkfManager.Extensions;
using WxkfManager.Tests.Process;

namespace WxkfManager.Tests.Security;

/// <summary>CR, LF and ESC from outside never start a log line of their own nor reach a terminal raw.</summary>
public sealed partial class LogInjectionTests
{
    private const string Forged = "2026-01-01 00:00:00.000 +00:00 [INF] FORGED";

    [GeneratedRegex(@"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} [+-]\d\d:\d\d \[[A-Z]{3}\] ")]
    private static partial Regex FileLinePrefix();

    [GeneratedRegex(@"^\[\d\d:\d\d:\d\d [A-Z]{3}\] ")]
    private static partial Regex ConsoleLinePrefix();

    [Fact]
    public async Task HostileIdentifiers_NeverMakeANewLineOrARawEscape_InTheFileLog()
    {
        await using var app = new ManagerApp();
        await app.InitializeAsync();
        var corp = new TestCorp();
        var puppet = await corp.RegisterPuppetAsync(app.Client, app.Puppets);

        var statuses = await SendHostileRequestsAsync(app.Client, corp, puppet.KfId);

        Assert.All(statuses, status => Assert.InRange(status, 400, 499));
        var log = await LogFiles.WaitForAsync(app.LogDirectory, "FORGED");
        Assert.DoesNotContain('\u001b', log);
        Assert.DoesNotContain('\r', log);
        Assert.All(log.Split('\n', StringSplitOptions.RemoveEmptyEntries), line => Assert.Matches(FileLinePrefix(), line));
        // The path is still there to read, escaped.
        Assert.Contains("\\r\\n" + Forged, log);
        Assert.Contains("\\u001b[31m", log);
    }

    [Fact]
    public async Task HostileIdentifiers_NeverMakeANewLineOrARawEscape_OnTheConsole()
    {
        var root = Path.Combine(Path.GetTempPath(), "wxkf-console-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(root);
        await using var service = await ServiceProcess.StartAsync(root, new Dictionary<string, string>(), Ct);
        using var client = new HttpClient { BaseAddress = service.BaseAddress };
        var corp = new TestCorp();
        await using var puppets = await PuppetStub.StartAsync();
        var puppet = await corp.RegisterPuppetAsync(client, puppets);

        var statuses = await SendHostileRequestsAsync(client, corp, puppet.KfId);

        Assert.All(statuses, status => Assert.InRange(status, 400, 499));
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!service.OutputLines.Any(l => l.Contains("FORGED")) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50, Ct);
        }
        var lines = service.OutputLines.ToList();
        Assert.Contains(lines, l => l.Contains("\\r\\n" + Forged));
        Assert.All(lines, line =>
        {
            Assert.Matches(ConsoleLinePrefix(), line);
            Assert.DoesNotContain('\u001b', line);
        });
    }

    [Fact]
    public void TheEscaper_EscapesEveryRenderedProperty_NestedValuesIncluded()
    {
        var hostile = "a\r\nb\u001b[31mc\u2028d\te";
        var logEvent = new LogEvent(DateTimeOffset.UtcNow, LogEventLevel.Information, null,
            new MessageTemplateParser().Parse("{Path} {List} {Object} {Map}"),
            [
                new LogEventProperty("Path", new ScalarValue(hostile)),
                new LogEventProperty("List", new SequenceValue([new ScalarValue(hostile)])),
                new LogEventProperty("Object", new StructureValue([new LogEventProperty("Field", new ScalarValue(hostile))])),
                new LogEventProperty("Map", new DictionaryValue([new(new ScalarValue(hostile), new ScalarValue(hostile))])),
            ]);

        new ControlCharacterEscaper().Enrich(logEvent, null!);
        var rendered = new StringWriter();
        new MessageTemplateTextFormatter("{Message:lj}").Format(logEvent, rendered);

        Assert.DoesNotContain(rendered.ToString(), c => char.IsControl(c) || c is '\u2028');
        Assert.Contains("a\\r\\nb\\u001b[31mc\\u2028d\\te", rendered.ToString());
    }

    /// <summary>What the issue's attacker sent: CR, LF and ESC in the path, the corpId, the openKfId and the endpoint.</summary>
    private static async Task<List<int>> SendHostileRequestsAsync(HttpClient client, TestCorp corp, string kfId)
    {
        var statuses = new List<int>();
        var injected = Uri.EscapeDataString("\r\n" + Forged + "\u001b[31m");
        var callback = corp.Callback(kfId);
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        async Task SendAsync(Func<Task<HttpResponseMessage>> send)
        {
            using var response = await send();
            statuses.Add((int)response.StatusCode);
        }

        await SendAsync(() => client.PostAsync($"/callback/ww{injected}?msg_signature=a&timestamp={now}&nonce=1", callback.Content(), Ct));
        await SendAsync(() => client.GetAsync($"/callback/ww{injected}?msg_signature=a&timestamp={now}&nonce=1&echostr=abc", Ct));
        await SendAsync(() => client.PostAsJsonAsync($"/callback/decrypted/{corp.CorpId}",
            new { token = "t", openKfId = "wk1\r\n" + Forged + "\u001b[31m" }, Ct));
        await SendAsync(() => client.PostAsJsonAsync($"/callback/decrypted/{corp.CorpId}",
            new { token = "t\r\n" + Forged, openKfId = kfId }, Ct));
        await SendAsync(() => client.PostAsJsonAsync("/puppetWxkfManager/register",
            new { kfId, kfName = "x\r\n" + Forged, endpoint = "http://10.0.0.5:8080/a\tb\n" + Forged, corpId = "ww1\r\n" + Forged + "\u001b[31m",
                corpSecret = corp.CorpSecret, token = corp.Token, encodingAESKey = corp.EncodingAesKey }, Ct));
        await SendAsync(() => client.PostAsJsonAsync("/puppetWxkfManager/deregister", new { kfId = kfId + "\r\n" + Forged, corpId = corp.CorpId }, Ct));
        await SendAsync(() => client.GetAsync($"/puppetWxkfManager/puppetWxkfInfo/wk{injected}", Ct));
        return statuses;
    }
}
