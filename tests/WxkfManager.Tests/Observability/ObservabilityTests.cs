using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using WxkfManager.Tests.Delivery;
using WxkfManager.Tests.Infrastructure;
using WxkfManager.Tests.Security;

namespace WxkfManager.Tests.Observability;

public sealed class ObservabilityTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Metrics_CountCallbacksDeliveriesTokensAndState()
    {
        await using var app = new ManagerApp();
        await app.InitializeAsync();
        var corp = new TestCorp();
        var puppet = await corp.RegisterPuppetAsync(app.Client, app.Puppets);
        var callback = corp.Callback(puppet.KfId);
        await app.Client.PostAsync(callback.Path, callback.Content(), Ct);
        await puppet.NextAsync();
        await app.Client.PostAsync(callback.Path.Replace(callback.Signature, new string('0', 40)), corp.Callback(puppet.KfId).Content(), Ct);
        await app.Client.GetAsync("/puppetWxkfManager/getToken?corpid=wwmetrics&corpsecret=right-secret", Ct);

        var metrics = await DeliveryTests.WaitForAsync<bool>(async () =>
        {
            var text = await app.Client.GetStringAsync("/metrics", Ct);
            return text.Contains("wxkf_deliveries_total{outcome=\"delivered\"}") ? true : null;
        });
        var scrape = await app.Client.GetStringAsync("/metrics", Ct);

        Assert.True(metrics);
        foreach (var series in new[]
        {
            "wxkf_callbacks_received_total{kind=\"encrypted\"}",
            "wxkf_callbacks_accepted_total{outcome=\"queued\"}",
            "wxkf_callbacks_refused_total{reason=\"signature_mismatch\"}",
            "wxkf_deliveries_total{outcome=\"delivered\"}",
            "wxkf_delivery_latency_seconds_bucket{le=\"0.1\"}",
            "wxkf_queue_depth{state=\"pending\"}",
            "wxkf_dead_letters",
            "wxkf_puppets{state=\"online\"}",
            "wxkf_token_cache_total{result=\"miss\"}",
        })
        {
            Assert.Contains(series, scrape);
        }
    }

    [Fact]
    public async Task Metrics_NeedTheOperatorKey_WhenOneIsSet()
    {
        await using var app = new KeyedManagerApp();
        await app.InitializeAsync();

        using var anonymous = await app.Client.GetAsync("/metrics", Ct);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", KeyedManagerApp.OperatorKey);
        using var scraper = await app.Client.SendAsync(request, Ct);

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.OK, scraper.StatusCode);
    }

    [Fact]
    public async Task JsonLogs_CarryOneCorrelationId_FromReceiptToDelivery()
    {
        string logDirectory;
        await using (var app = new ManagerApp().With("LOG_FORMAT", "json"))
        {
            await app.InitializeAsync();
            logDirectory = app.LogDirectory;
            var corp = new TestCorp();
            var puppet = await corp.RegisterPuppetAsync(app.Client, app.Puppets);
            var callback = corp.Callback(puppet.KfId);
            await app.Client.PostAsync(callback.Path, callback.Content(), Ct);
            await puppet.NextAsync();
            await Task.Delay(300, Ct);
        }

        var events = Directory.GetFiles(logDirectory).SelectMany(File.ReadAllLines).Select(line => JsonDocument.Parse(line).RootElement).ToList();
        var queued = Assert.Single(events, e => e.GetProperty("@mt").GetString()!.StartsWith("Queued", StringComparison.Ordinal));
        var correlationId = queued.GetProperty("CorrelationId").GetString();
        Assert.False(string.IsNullOrEmpty(correlationId));
        Assert.Contains(events, e => e.GetProperty("@mt").GetString()!.StartsWith("Delivered", StringComparison.Ordinal)
            && e.GetProperty("CorrelationId").GetString() == correlationId);
        Assert.Contains(events, e => e.GetProperty("@mt").GetString()!.StartsWith("HTTP", StringComparison.Ordinal)
            && e.TryGetProperty("CorrelationId", out var id) && id.GetString() == correlationId);
    }

    [Fact]
    public async Task JsonLogs_HaveALevelAndTheRenderedMessageOnEveryLine_AndTheGatewayPathsRequestLineCarriesTheCorrelationId()
    {
        string logDirectory;
        await using (var app = new ManagerApp().With("LOG_FORMAT", "json"))
        {
            await app.InitializeAsync();
            logDirectory = app.LogDirectory;
            var corp = new TestCorp();
            var puppet = await corp.RegisterPuppetAsync(app.Client, app.Puppets);
            using var roger = await app.Client.PostAsync($"/callback/decrypted/{corp.CorpId}",
                new StringContent($$"""{"token":"ENC-json-log","openKfId":"{{puppet.KfId}}"}""", System.Text.Encoding.UTF8, "application/json"), Ct);
            Assert.Equal(HttpStatusCode.OK, roger.StatusCode);
            await puppet.NextAsync();
            await Task.Delay(300, Ct);
        }

        var events = Directory.GetFiles(logDirectory).SelectMany(File.ReadAllLines).Select(line => JsonDocument.Parse(line).RootElement).ToList();
        Assert.All(events, e =>
        {
            Assert.False(string.IsNullOrEmpty(e.GetProperty("@l").GetString()));
            Assert.False(string.IsNullOrEmpty(e.GetProperty("@m").GetString()));
        });
        var queued = Assert.Single(events, e => e.GetProperty("@mt").GetString()!.StartsWith("Queued", StringComparison.Ordinal));
        Assert.Equal("Information", queued.GetProperty("@l").GetString());
        Assert.Contains(puppet_kf(queued), queued.GetProperty("@m").GetString());
        var correlationId = queued.GetProperty("CorrelationId").GetString();
        var request = Assert.Single(events, e => e.GetProperty("@m").GetString()!.StartsWith("HTTP POST /callback/decrypted/", StringComparison.Ordinal));
        Assert.Equal(correlationId, request.GetProperty("CorrelationId").GetString());

        static string puppet_kf(JsonElement e) => e.GetProperty("KfId").GetString()!;
    }
}
