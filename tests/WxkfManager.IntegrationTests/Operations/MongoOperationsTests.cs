using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using MongoDB.Bson;
using MongoDB.Driver;
using WxkfManager.Registry;
using WxkfManager.Tests.Infrastructure;
using WxkfManager.Tests.Process;
using WxkfManager.Storage.Mongo;

namespace WxkfManager.IntegrationTests.Operations;

/// <summary>
/// MongoDB as users of the original service have it: its legacy documents, secrets encrypted at rest,
/// a process killed mid-stream, and the server going away mid-run.
/// </summary>
public sealed class MongoOperationsTests(MongoFixture fixture) : IClassFixture<MongoFixture>
{
    private IMongoCollection<BsonDocument> Puppets(string uri) => fixture.DatabaseFor(uri).GetCollection<BsonDocument>(MongoPuppetRegistry.CollectionName);

    private static BsonDocument Mongoose(TestCorp corp, string kfId, string endpoint) => new()
    {
        { "_id", ObjectId.GenerateNewId() },
        { "botEndpoint", endpoint },
        { "name", "legacy" },
        { "kfOpenId", kfId },
        { "corpId", corp.CorpId },
        { "corpSecret", corp.CorpSecret },
        { "token", corp.Token },
        { "encodingAESKey", corp.EncodingAesKey },
        { "online", true },
        { "lastOnlineDate", BsonNull.Value },
        { "__v", 0 },
    };

    [Fact]
    public async Task LegacyDocumentsThatCannotLoad_AreSkippedAndListed_AndTheRestOfTheFleetServes()
    {
        var uri = fixture.NewDatabaseUri();
        await using var app = new ManagerApp().With("MONGO_URI", uri);
        var corp = new TestCorp();
        var kfIds = new { Good = TestCorp.NewKfId(), NullToken = TestCorp.NewKfId(), BadKey = TestCorp.NewKfId(), WrongType = TestCorp.NewKfId() };
        var puppets = await PuppetStub.StartAsync();
        await using var _ = puppets;
        var good = puppets.Add(kfIds.Good, corp.CorpId, corp.Token, corp.EncodingAesKey);
        var nullToken = Mongoose(corp, kfIds.NullToken, good.Endpoint);
        nullToken["token"] = BsonNull.Value;
        var badKey = Mongoose(corp, kfIds.BadKey, good.Endpoint);
        badKey["encodingAESKey"] = "too-short";
        var wrongType = Mongoose(corp, kfIds.WrongType, good.Endpoint);
        wrongType["online"] = "true";
        await Puppets(uri).InsertManyAsync([Mongoose(corp, kfIds.Good, good.Endpoint), nullToken, badKey, wrongType], cancellationToken: Ct);

        await app.InitializeAsync();

        var registry = await app.Client.GetFromJsonAsync<JsonElement>("/operator/registry", Ct);
        Assert.Equal(1, registry.GetProperty("loaded").GetInt32());
        var skipped = registry.GetProperty("unloadable").EnumerateArray()
            .ToDictionary(u => u.GetProperty("kfId").GetString()!, u => u.GetProperty("field").GetString());
        Assert.Equal("token", skipped[kfIds.NullToken]);
        Assert.Equal("encodingAESKey", skipped[kfIds.BadKey]);
        Assert.Equal("online", skipped[kfIds.WrongType]);
        var callback = corp.Callback(kfIds.Good, syncToken: "legacy-fleet");
        using var response = await app.Client.PostAsync(callback.Path, callback.Content(), Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("legacy-fleet", (await good.NextAsync()).Token);
        var listed = await app.Client.GetFromJsonAsync<JsonElement>("/operator/puppets", Ct);
        Assert.Contains(listed.EnumerateArray(), p => p.GetProperty("kfId").GetString() == kfIds.Good);
    }

    [Fact]
    public async Task SecretsAreEncryptedAtRest_AndUnderAnotherKeyTheRegistrationIsSkipped_NotTheStartUp()
    {
        var uri = fixture.NewDatabaseUri();
        var key = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        var otherKey = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        var corp = new TestCorp();
        var kfId = TestCorp.NewKfId();
        await using (var first = new ManagerApp().With("MONGO_URI", uri).With("SECRETS_ENCRYPTION_KEY", key))
        {
            await first.InitializeAsync();
            (await first.Client.PostAsJsonAsync("/puppetWxkfManager/register", corp.Registration(kfId, "http://10.0.0.5:8080"), Ct)).EnsureSuccessStatusCode();
        }

        var raw = await Puppets(uri).Find(new BsonDocument("kfOpenId", kfId)).SingleAsync(Ct);
        foreach (var field in new[] { "corpSecret", "token", "encodingAESKey" })
        {
            Assert.StartsWith(Security.SecretProtector.Prefix, raw[field].AsString);
        }
        Assert.DoesNotContain(corp.Token, raw.ToJson());
        Assert.DoesNotContain(corp.EncodingAesKey, raw.ToJson());

        await using (var wrongKey = new ManagerApp().With("MONGO_URI", uri).With("SECRETS_ENCRYPTION_KEY", otherKey))
        {
            await wrongKey.InitializeAsync();
            var registry = await wrongKey.Client.GetFromJsonAsync<JsonElement>("/operator/registry", Ct);
            var skipped = Assert.Single(registry.GetProperty("unloadable").EnumerateArray());
            Assert.Equal(kfId, skipped.GetProperty("kfId").GetString());
            Assert.Equal("corpSecret", skipped.GetProperty("field").GetString());
        }

        await using var rightKey = new ManagerApp().With("MONGO_URI", uri).With("SECRETS_ENCRYPTION_KEY", key);
        await rightKey.InitializeAsync();
        var loaded = await rightKey.Client.GetFromJsonAsync<JsonElement>("/operator/registry", Ct);
        Assert.Equal(1, loaded.GetProperty("loaded").GetInt32());
    }

    [Fact]
    public async Task KillMinus9_MidStream_ThenAnotherProcess_DeliversEveryAcknowledgedEvent()
    {
        var uri = fixture.NewDatabaseUri();
        var settings = new Dictionary<string, string>
        {
            ["MONGO_URI"] = uri,
            ["Delivery__LeaseDuration"] = "00:00:03",
            ["Delivery__AttemptTimeout"] = "00:00:01.400",
            ["Delivery__PollInterval"] = "00:00:00.200",
            ["Delivery__Concurrency"] = "4",
        };
        await using var puppets = await PuppetStub.StartAsync();
        var corp = new TestCorp();
        var puppet = puppets.Add(TestCorp.NewKfId(), corp.CorpId, corp.Token, corp.EncodingAesKey);
        puppet.Delay = TimeSpan.FromMilliseconds(100);
        var acknowledged = new ConcurrentBag<string>();

        var firstRoot = Directory.CreateTempSubdirectory("wxkf-mongo-crash-a").FullName;
        await using (var first = await ServiceProcess.StartAsync(firstRoot, settings, Ct))
        {
            using var client = new HttpClient { BaseAddress = first.BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
            (await client.PostAsJsonAsync("/puppetWxkfManager/register", corp.Registration(puppet.KfId, puppet.Endpoint), Ct)).EnsureSuccessStatusCode();
            for (var i = 0; i < 60; i++)
            {
                var callback = corp.Callback(puppet.KfId, syncToken: $"crash-{i}");
                using var response = await client.PostAsync(callback.Path, callback.Content(), Ct);
                if (await response.Content.ReadAsStringAsync(Ct) == "success")
                {
                    acknowledged.Add(callback.SyncToken!);
                }
            }
            first.KillHard();
        }

        // Another process over the same database takes the dead one's leases over once they run out.
        var secondRoot = Directory.CreateTempSubdirectory("wxkf-mongo-crash-b").FullName;
        await using var second = await ServiceProcess.StartAsync(secondRoot, settings, Ct);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!acknowledged.All(puppet.Tokens.Contains) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200, Ct);
        }

        var missing = acknowledged.Where(t => !puppet.Tokens.Contains(t)).ToList();
        Assert.True(missing.Count == 0, $"{missing.Count} of {acknowledged.Count} acknowledged events never delivered");
        Assert.Equal(60, acknowledged.Count);
    }

    [Fact]
    public async Task TheServerGoingAwayMidRun_GetsFast503s_AndServiceResumesWhenItReturns()
    {
        var server = new MongoUrlBuilder(fixture.NewDatabaseUri());
        var target = server.Servers.First();
        await using var proxy = new TcpProxy(target.Host, target.Port);
        proxy.Start();
        server.Servers = [new MongoServerAddress("127.0.0.1", proxy.Port)];
        server.DirectConnection = true;
        await using var app = new ManagerApp().With("MONGO_URI", server.ToString());
        await app.InitializeAsync();
        var corp = new TestCorp();
        var puppet = await corp.RegisterPuppetAsync(app.Client, app.Puppets);

        proxy.Stop();
        var down = corp.Callback(puppet.KfId, syncToken: "while-down");
        var watch = Stopwatch.StartNew();
        using var refused = await app.Client.PostAsync(down.Path, down.Content(), Ct);
        watch.Stop();
        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"the callback waited {watch.Elapsed.TotalSeconds:F1} s for a server that is down");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await app.Client.GetAsync("/ready", Ct)).StatusCode);

        proxy.Start();
        // WeCom resends what it was refused; once the server is back the resend is queued and delivered.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        HttpStatusCode status;
        do
        {
            using var resend = await app.Client.PostAsync(down.Path, down.Content(), Ct);
            status = resend.StatusCode;
            if (status != HttpStatusCode.OK)
            {
                await Task.Delay(500, Ct);
            }
        }
        while (status != HttpStatusCode.OK && DateTime.UtcNow < deadline);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("while-down", (await puppet.NextAsync(TimeSpan.FromSeconds(15))).Token);
    }
}
