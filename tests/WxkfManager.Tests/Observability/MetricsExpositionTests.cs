using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using WxkfManager.Metrics;
using WxkfManager.Tests.Delivery;
using WxkfManager.Tests.Infrastructure;

namespace WxkfManager.Tests.Observability;

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MetricsCollection
{
    /// <summary>Tests that scrape the whole exposition run alone, so the runtime's and Kestrel's process-wide meters stay quiet.</summary>
    public const string Name = "Process-wide metrics";
}

[Collection(MetricsCollection.Name)]
public sealed class MetricsExpositionTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Exposition_PassesPromtoolsRules_AfterTraffic()
    {
        await using var app = new ManagerApp();
        await app.InitializeAsync();
        var corp = new TestCorp();
        var puppet = await corp.RegisterPuppetAsync(app.Client, app.Puppets);
        var callback = corp.Callback(puppet.KfId);
        await app.Client.PostAsync(callback.Path, callback.Content(), Ct);
        await puppet.NextAsync();
        await app.Client.GetAsync("/puppetWxkfManager/getToken?corpid=wwlint&corpsecret=right-secret", Ct);
        await app.Client.GetAsync("/callback/ww-lint?msg_signature=x", Ct);

        var (families, problems) = PrometheusLint.Check(await app.Client.GetStringAsync("/metrics", Ct));

        Assert.Empty(problems);
        // ASP.NET Core's own HTTP server meter (by route pattern, method and status) and the runtime's.
        Assert.Contains(families["http_server_request_duration_seconds"].Samples, s => s.Labels.GetValueOrDefault("http_route") == "/callback/{corpId}");
        Assert.Contains("http_server_active_requests", families.Keys);
        Assert.Contains("dotnet_gc_collections_total", families.Keys);
        Assert.DoesNotContain(families.Keys, name => name.Contains("quic", StringComparison.Ordinal)
            || name.StartsWith("system_runtime", StringComparison.Ordinal) || name.StartsWith("prometheus_net", StringComparison.Ordinal)
            || name.StartsWith("private_", StringComparison.Ordinal) || name == "target_info");
        Assert.DoesNotContain(families.Values.SelectMany(f => f.Samples), s => s.Labels.ContainsKey("otel_scope_name"));
    }

    [Fact]
    public void Lint_CatchesWhatPromtoolCatches()
    {
        var (_, problems) = PrometheusLint.Check("""
            # HELP requests Requests.
            # TYPE requests counter
            requests{code="200"} 1
            requests{method="GET"} 1
            # TYPE latency_ms gauge
            latency_ms 3
            orphan_total 1
            # HELP thread_count Threads.
            # TYPE thread_count gauge
            thread_count 3
            # TYPE described_after_total counter
            # HELP described_after_total HELP after TYPE, as OpenTelemetry writes it.
            described_after_total 1
            """);

        Assert.Contains(problems, p => p.Contains("_total", StringComparison.Ordinal) && p.StartsWith("requests", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("inconsistent label sets", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("latency_ms: no HELP", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("\"ms\"", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("orphan_total: sample without", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("thread_count: non-histogram", StringComparison.Ordinal));
        Assert.DoesNotContain(problems, p => p.StartsWith("described_after_total", StringComparison.Ordinal));
    }

    [Fact]
    public async Task EveryLabelledSeries_ExistsBeforeItsFirstEvent()
    {
        await using var app = new ManagerApp();
        await app.InitializeAsync();

        var (families, _) = PrometheusLint.Check(await app.Client.GetStringAsync("/metrics", Ct));

        foreach (var (family, label, values) in new[]
        {
            ("wxkf_callbacks_received_total", "kind", ManagerMetrics.CallbackKinds),
            ("wxkf_callbacks_accepted_total", "outcome", ManagerMetrics.AcceptedOutcomes),
            ("wxkf_callbacks_refused_total", "reason", ManagerMetrics.RefusalReasons),
            ("wxkf_deliveries_total", "outcome", ManagerMetrics.DeliveryOutcomes),
            ("wxkf_token_cache_total", "result", ManagerMetrics.TokenCacheResults),
            ("wxkf_queue_depth", "state", ManagerMetrics.QueueStates),
            ("wxkf_puppets", "state", ManagerMetrics.PuppetStates),
        })
        {
            var present = families[family].Samples.Select(s => s.Labels[label]).ToHashSet();
            Assert.Superset(values.ToHashSet(), present);
        }
        var readme = RepositoryFiles.Read("README.md");
        Assert.All(ManagerMetrics.RefusalReasons, reason => Assert.Contains(reason, readme));
    }

    [Fact]
    public async Task DecryptedCallback_ForAnUnknownPuppetOfAKnownCorp_IsCountedAsUnknownPuppet()
    {
        await using var app = new ManagerApp();
        await app.InitializeAsync();
        var corp = new TestCorp();
        await corp.RegisterPuppetAsync(app.Client, app.Puppets);
        var before = await RefusalsAsync(app.Client);

        using var response = await app.Client.PostAsJsonAsync($"/callback/decrypted/{corp.CorpId}", new { token = "ENCx", openKfId = TestCorp.NewKfId() }, Ct);

        // Answered like a known kfId's (nothing is stored), so the gateway path lists nothing; the metric keeps the reason.
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var after = await RefusalsAsync(app.Client);
        Assert.Equal(before["unknown_puppet"] + 1, after["unknown_puppet"]);
        Assert.Equal(before["unknown_corp"], after["unknown_corp"]);
    }

    [Fact]
    public async Task ReplayedDeadLetter_CountsFromItsReplay_NotFromItsFirstReceipt()
    {
        // The service's clock, moved by the test: the dead letter's wait costs no real time.
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var app = new ManagerApp().WithTime(time);
        await app.InitializeAsync();
        var corp = new TestCorp();
        var puppet = await corp.RegisterPuppetAsync(app.Client, app.Puppets);
        (await app.Client.PostAsJsonAsync("/puppetWxkfManager/deregister", new { kfId = puppet.KfId, corpId = corp.CorpId }, Ct)).EnsureSuccessStatusCode();
        var callback = corp.Callback(puppet.KfId, syncToken: "late");
        (await app.Client.PostAsync(callback.Path, callback.Content(), Ct)).EnsureSuccessStatusCode();
        // A dead letter that waits longer than the bucket the replayed delivery must land in.
        time.Advance(TimeSpan.FromSeconds(2.7));
        (await app.Client.PostAsJsonAsync("/puppetWxkfManager/register", corp.Registration(puppet.KfId, puppet.Endpoint), Ct)).EnsureSuccessStatusCode();
        // Past the hold that follows a registration.
        time.Advance(TimeSpan.FromSeconds(1));
        using var latency = new MetricCollector<double>(app.Services.GetRequiredService<IMeterFactory>(), ManagerMetrics.MeterName, "wxkf_delivery_latency");

        (await app.Client.PostAsync("/operator/dead-letters/replay", null, Ct)).EnsureSuccessStatusCode();
        Assert.Equal("late", (await puppet.NextAsync()).Token);

        await latency.WaitForMeasurementsAsync(1, TimeSpan.FromSeconds(10));
        Assert.InRange(Assert.Single(latency.GetMeasurementSnapshot()).Value, 0, 2.5);
        var family = PrometheusLint.Check(await app.Client.GetStringAsync("/metrics", Ct)).Families["wxkf_delivery_latency_seconds"];
        Assert.Equal(1, family.Samples.Single(s => s.Labels.GetValueOrDefault("le") == "2.5").Value);
    }

    private static async Task<Dictionary<string, double>> RefusalsAsync(HttpClient client) =>
        PrometheusLint.Check(await client.GetStringAsync("/metrics", Ct)).Families["wxkf_callbacks_refused_total"]
            .Samples.ToDictionary(s => s.Labels["reason"], s => s.Value);
}
