using Microsoft.Extensions.Options;
using System.Collections.Concurrent;

namespace WxkfManager.Tests.Process;

public sealed class CrashRecoveryTests
{
    private static readonly Dictionary<string, string> FastRecovery = new()
    {
        ["Delivery__LeaseDuration"] = "00:00:03",
        // A lease must outlast the worst-case attempt (1.4 s × 2 tries + backoff), as start-up requires.
        ["Delivery__AttemptTimeout"] = "00:00:01.400",
        ["Delivery__PollInterval"] = "00:00:00.200",
        ["Delivery__RetryBaseDelay"] = "00:00:00.050",
        ["Delivery__MaxRetryDelay"] = "00:00:00.500",
        // A slow puppet and few deliveries at once keep a backlog in the queue when the kill comes.
        ["Delivery__Concurrency"] = "16",
    };

    [Fact]
    public async Task KillMinus9_MidStream_ThenRestart_DeliversEveryAcknowledgedEvent()
    {
        var root = Path.Combine(Path.GetTempPath(), "wxkf-crash-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(root);
        await using var puppets = await PuppetStub.StartAsync();
        var corp = new TestCorp();
        var puppet = puppets.Add(TestCorp.NewKfId(), corp.CorpId, corp.Token, corp.EncodingAesKey);
        puppet.Delay = TimeSpan.FromMilliseconds(250);
        var acknowledged = new ConcurrentBag<string>();
        var deliveredAtKill = 0;

        await using (var first = await ServiceProcess.StartAsync(root, FastRecovery, Ct))
        {
            using var client = new HttpClient { BaseAddress = first.BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
            (await client.PostAsJsonAsync("/puppetWxkfManager/register", corp.Registration(puppet.KfId, puppet.Endpoint), Ct)).EnsureSuccessStatusCode();

            var sent = 0;
            var killed = 0;
            deliveredAtKill = 0;
            await Parallel.ForEachAsync(Enumerable.Range(0, 400), new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = Ct }, async (i, ct) =>
            {
                var callback = corp.Callback(puppet.KfId, syncToken: $"event-{i}");
                try
                {
                    using var response = await client.PostAsync(callback.Path, callback.Content(), ct);
                    if (response.IsSuccessStatusCode && await response.Content.ReadAsStringAsync(ct) == "success")
                    {
                        acknowledged.Add(callback.SyncToken!);
                    }
                }
                catch (HttpRequestException)
                {
                    // After the kill nothing is acknowledged, so nothing is owed.
                }
                if (Interlocked.Increment(ref sent) == 200 && Interlocked.Exchange(ref killed, 1) == 0)
                {
                    first.KillHard();
                    deliveredAtKill = puppet.Received;
                }
            });
            Assert.True(deliveredAtKill < acknowledged.Count, "the kill should leave acknowledged events undelivered");
        }

        // Killed mid-stream: a good share acknowledged, and not all 400 (requests in flight at the kill may still complete).
        Assert.InRange(acknowledged.Count, 150, 399);
        await using var second = await ServiceProcess.StartAsync(root, FastRecovery, Ct);

        var deadline = DateTime.UtcNow.AddSeconds(60);
        var missing = acknowledged.Except(puppet.Tokens.OfType<string>()).ToList();
        while (missing.Count > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(250, Ct);
            missing = acknowledged.Except(puppet.Tokens.OfType<string>()).ToList();
        }
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"acknowledged {acknowledged.Count} of 400; delivered before the kill: {deliveredAtKill}; deliveries after restart, duplicates included: {puppet.Received}");
        Assert.True(missing.Count == 0, $"{missing.Count} of {acknowledged.Count} acknowledged events never delivered, e.g. {string.Join(", ", missing.Take(5))}");
    }

    [Fact]
    public async Task Sigterm_LetsTheInFlightDeliveryFinish_AndExitsCleanly()
    {
        var root = Path.Combine(Path.GetTempPath(), "wxkf-sigterm-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(root);
        await using var puppets = await PuppetStub.StartAsync();
        var corp = new TestCorp();
        var puppet = puppets.Add(TestCorp.NewKfId(), corp.CorpId, corp.Token, corp.EncodingAesKey);
        puppet.Delay = TimeSpan.FromSeconds(1);
        await using var service = await ServiceProcess.StartAsync(root, FastRecovery, Ct);
        using var client = new HttpClient { BaseAddress = service.BaseAddress };
        (await client.PostAsJsonAsync("/puppetWxkfManager/register", corp.Registration(puppet.KfId, puppet.Endpoint), Ct)).EnsureSuccessStatusCode();
        var callback = corp.Callback(puppet.KfId, syncToken: "in-flight-at-sigterm");
        Assert.Equal("success", await (await client.PostAsync(callback.Path, callback.Content(), Ct)).Content.ReadAsStringAsync(Ct));
        while (puppet.Attempts == 0)
        {
            await Task.Delay(20, Ct);
        }

        var exitCode = await service.TerminateAsync(TimeSpan.FromSeconds(20));

        Assert.Equal(0, exitCode);
        Assert.Equal("in-flight-at-sigterm", (await puppet.NextAsync(TimeSpan.FromSeconds(2))).Token);
        // The manager waited for the puppet's answer and recorded it before exiting.
        var store = new WxkfManager.Storage.Sqlite.SqliteDeliveryStore(new WxkfManager.Storage.Sqlite.SqliteDatabase(
            Options.Create(new WxkfManager.Settings.StorageOptions { DataDirectory = Path.Combine(root, "data") })));
        var stats = await store.GetStatsAsync(DateTime.UtcNow, Ct);
        Assert.Equal((0, 0, 1), (stats.Pending + stats.Leased, stats.Dead, stats.Delivered));
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => client.GetAsync("/health", Ct));
    }
}
