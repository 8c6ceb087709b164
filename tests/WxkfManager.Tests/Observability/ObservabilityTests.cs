using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using WxkfManager.Metrics;
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
        var meters = app.Services.GetRequiredService<IMeterFactory>();
        using var received = Collect<long>(meters, "wxkf_callbacks_received");
        using var accepted = Collect<long>(meters, "wxkf_callbacks_accepted");
        using var refused = Collect<long>(meters, "wxkf_callbacks_refused");
        using var deliveries = Collect<long>(meters, "wxkf_deliveries");
        using var latency = Collect<double>(meters, "wxkf_delivery_latency");
        using var tokens = Collect<long>(meters, "wxkf_token_cache");
        using var puppets = Collect<long>(meters, "wxkf_puppets");
        using var queue = Collect<long>(meters, "wxkf_queue_depth");
        var corp = new TestCorp();
        var puppet = await corp.RegisterPuppetAsync(app.Client, app.Puppets);
        var callback = corp.Callback(puppet.KfId);
        await app.Client.PostAsync(callback.Path, callback.Content(), Ct);
        await puppet.NextAsync();
        await app.Client.PostAsync(callback.Path.Replace(callback.Signature, new string('0', 40)), corp.Callback(puppet.KfId).Content(), Ct);
        await app.Client.GetAsync("/puppetWxkfManager/getToken?corpid=wwmetrics&corpsecret=right-secret", Ct);
        await app.Client.GetAsync("/puppetWxkfManager/getToken?corpid=wwmetrics&corpsecret=right-secret", Ct);
        await deliveries.WaitForMeasurementsAsync(1, TimeSpan.FromSeconds(10));
        var scrape = await app.Client.GetStringAsync("/metrics", Ct);
        puppets.RecordObservableInstruments();
        queue.RecordObservableInstruments();

        Assert.Equal(2, Sum(received, "kind", "encrypted"));
        Assert.Equal(1, Sum(accepted, "outcome", "queued"));
        Assert.Equal(1, Sum(refused, "reason", "signature_mismatch"));
        Assert.Equal(1, Sum(deliveries, "outcome", "delivered"));
        Assert.Equal(0, Sum(deliveries, "outcome", "retry"));
        var delivery = Assert.Single(latency.GetMeasurementSnapshot());
        Assert.InRange(delivery.Value, 0, 5);
        Assert.Equal(1, Sum(tokens, "result", "miss"));
        Assert.Equal(1, Sum(tokens, "result", "hit"));
        Assert.Equal(1, Last(puppets, "state", "online"));
        Assert.Equal(1, Last(puppets, "state", "registered"));
        Assert.Equal(0, Last(queue, "state", "pending"));
        // The same values, as Prometheus scrapes them.
        var exposed = PrometheusLint.Check(scrape).Families.Values.SelectMany(f => f.Samples)
            .ToDictionary(s => s.Name + "{" + string.Join(",", s.Labels.Select(l => $"{l.Key}={l.Value}")) + "}", s => s.Value);
        foreach (var (series, value) in new[]
        {
            ("wxkf_callbacks_received_total{kind=encrypted}", 2),
            ("wxkf_callbacks_accepted_total{outcome=queued}", 1),
            ("wxkf_callbacks_refused_total{reason=signature_mismatch}", 1),
            ("wxkf_deliveries_total{outcome=delivered}", 1),
            ("wxkf_delivery_latency_seconds_count{}", 1),
            ("wxkf_delivery_latency_seconds_bucket{le=+Inf}", 1),
            ("wxkf_queue_depth{state=pending}", 0),
            ("wxkf_dead_letters{}", 0),
            ("wxkf_puppets{state=online}", 1),
            ("wxkf_token_cache_total{result=miss}", 1),
            ("wxkf_token_cache_total{result=hit}", 1),
        })
        {
            Assert.Equal(value, exposed.GetValueOrDefault(series, double.NaN));
        }
    }

    private static MetricCollector<T> Collect<T>(IMeterFactory meters, string instrument) where T : struct =>
        new(meters, ManagerMetrics.MeterName, instrument);

    private static long Sum(MetricCollector<long> collector, string tag, string value) =>
        collector.GetMeasurementSnapshot().Where(m => m.ContainsTags(new KeyValuePair<string, object?>(tag, value))).Sum(m => m.Value);

    private static long Last(MetricCollector<long> collector, string tag, string value) =>
        collector.GetMeasurementSnapshot().Last(m => m.ContainsTags(new KeyValuePair<string, object?>(tag, value))).Value;

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
        var events = await JsonLogEventsOfAsync(async (app, corp, puppet) =>
        {
            var callback = corp.Callback(puppet.KfId);
            await app.Client.PostAsync(callback.Path, callback.Content(), Ct);
        });
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
        var events = await JsonLogEventsOfAsync(async (app, corp, puppet) =>
        {
            using var roger = await app.Client.PostAsync($"/callback/decrypted/{corp.CorpId}",
                new StringContent($$"""{"token":"ENC-json-log","openKfId":"{{puppet.KfId}}"}""", System.Text.Encoding.UTF8, "application/json"), Ct);
            Assert.Equal(HttpStatusCode.OK, roger.StatusCode);
        });
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

    /// <summary>Runs <paramref name="send"/> (one callback for a fresh puppet) against a manager writing JSON logs, waits for the delivery, and returns every log event.</summary>
    private static async Task<List<JsonElement>> JsonLogEventsOfAsync(Func<ManagerApp, TestCorp, PuppetStub.Puppet, Task> send)
    {
        string logDirectory;
        await using (var app = new ManagerApp().With("LOG_FORMAT", "json"))
        {
            await app.InitializeAsync();
            logDirectory = app.LogDirectory;
            var corp = new TestCorp();
            var puppet = await corp.RegisterPuppetAsync(app.Client, app.Puppets);
            await send(app, corp, puppet);
            await puppet.NextAsync();
            await Task.Delay(300, Ct);
        }
        return Directory.GetFiles(logDirectory).SelectMany(File.ReadAllLines).Select(line => JsonDocument.Parse(line).RootElement).ToList();
    }
}
