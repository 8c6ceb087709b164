using System.Diagnostics;
using Microsoft.Data.Sqlite;
using WxkfManager.Registry;
using WxkfManager.Storage.Sqlite;

namespace WxkfManager.Tests.Apis;

/// <summary>A store that is locked, unwritable or down: callbacks refused fast with 503 (WeCom resends), /ready says why.</summary>
public sealed class StoreFailureTests
{
    [Fact]
    public async Task SqliteLockedByAnotherWriter_CallbackIsRefusedFast_AndReadySaysLocked()
    {
        await using var app = new ManagerApp();
        await app.InitializeAsync();
        var corp = new TestCorp();
        var puppet = await corp.RegisterPuppetAsync(app.Client, app.Puppets);

        await using (var other = new SqliteConnection($"Data Source={Path.Combine(app.DataDirectory, SqliteDatabase.FileName)};Pooling=False"))
        {
            await other.OpenAsync(Ct);
            await using (var hold = other.CreateCommand())
            {
                hold.CommandText = "BEGIN EXCLUSIVE;";
                await hold.ExecuteNonQueryAsync(Ct);
            }

            var callback = corp.Callback(puppet.KfId);
            var clock = Stopwatch.StartNew();
            using var refused = await app.Client.PostAsync(callback.Path, callback.Content(), Ct);
            clock.Stop();

            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3.5), $"refused after {clock.Elapsed}, WeCom waits about 5 s");
            var ready = await ReadyAsync(app.Client);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.Status);
            Assert.Contains("locked", ready.Reason);

            await using var release = other.CreateCommand();
            release.CommandText = "ROLLBACK;";
            await release.ExecuteNonQueryAsync(Ct);
        }

        Assert.Equal(HttpStatusCode.OK, (await ReadyAsync(app.Client)).Status);
        var resent = corp.Callback(puppet.KfId);
        using var accepted = await app.Client.PostAsync(resent.Path, resent.Content(), Ct);
        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
    }

    [Fact]
    public async Task DataDirectoryNotWritable_ReadySaysSo()
    {
        await using var app = new ManagerApp();
        await app.InitializeAsync();
        Assert.Equal(HttpStatusCode.OK, (await ReadyAsync(app.Client)).Status);

        // Tests run as root here, so chmod cannot make it read-only: the directory is swapped for a plain file instead.
        Directory.Move(app.DataDirectory, app.DataDirectory + "-moved");
        await File.WriteAllTextAsync(app.DataDirectory, "not a directory", Ct);

        var ready = await ReadyAsync(app.Client);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.Status);
        Assert.Contains("not writable", ready.Reason);
        Assert.Contains(app.DataDirectory, ready.Reason);
    }

    [Fact]
    public async Task MongoDownAtStart_ServesHealth_ReportsWhy_RetriesWithALogLinePerTry_AndRefusesCallbacksFast()
    {
        var closedPort = StubServer.FreePort();
        await using var app = new ManagerApp().With("MONGO_URI", $"mongodb://127.0.0.1:{closedPort}/wxkf-test");
        await app.InitializeAsync();

        Assert.Equal(HttpStatusCode.OK, (await app.Client.GetAsync("/health", Ct)).StatusCode);
        var ready = await ReadyAsync(app.Client);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.Status);
        Assert.Contains("MongoDB", ready.Reason);

        var clock = Stopwatch.StartNew();
        using var refused = await app.Client.PostAsJsonAsync($"/callback/decrypted/ww{Guid.NewGuid():N}"[..30],
            new { token = "ENCx", openKfId = "wk1" }, Ct);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3.5), $"refused after {clock.Elapsed}");

        var deadline = DateTime.UtcNow.AddSeconds(20);
        string[] tries = [];
        while (DateTime.UtcNow < deadline && tries.Length < 2)
        {
            await Task.Delay(250, Ct);
            tries = [.. LogLines(app).Where(line => line.Contains("MongoDB store not ready (attempt", StringComparison.Ordinal))];
        }
        Assert.True(tries.Length >= 2, "expected a log line per try: " + string.Join("\n", tries));
        Assert.Contains($"127.0.0.1:{closedPort}", tries[0]);
        Assert.Equal(HttpStatusCode.OK, (await app.Client.GetAsync("/health", Ct)).StatusCode);
    }

    private static IEnumerable<string> LogLines(ManagerApp app) =>
        Directory.GetFiles(app.LogDirectory, "*.log").SelectMany(file =>
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var reader = new StreamReader(stream);
            return reader.ReadToEnd().Split('\n');
        }).ToList();

    private static async Task<(HttpStatusCode Status, string Reason)> ReadyAsync(HttpClient client)
    {
        using var response = await client.GetAsync("/ready", Ct);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        return (response.StatusCode, body.TryGetProperty("reason", out var reason) ? reason.GetString() ?? "" : "");
    }
}
