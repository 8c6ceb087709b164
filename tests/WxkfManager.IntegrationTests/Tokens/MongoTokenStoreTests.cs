using Microsoft.Extensions.Options;
using Microsoft.Extensions.Logging.Abstractions;
using MongoDB.Bson;
using MongoDB.Driver;
using WxkfManager.Settings;
using WxkfManager.Tests.Tokens;
using WxkfManager.Tokens;
using WxkfManager.Storage.Mongo;

namespace WxkfManager.IntegrationTests.Tokens;

/// <summary>The token store contract on a real server; each test gets a fresh database.</summary>
public sealed class MongoTokenStoreTests(MongoFixture fixture)
    : TokenStoreContract, IClassFixture<MongoFixture>, IDisposable
{
    private readonly List<MongoTokenStore> _stores = [];

    protected override async Task<ITokenStore> CreateStoreAsync() => await CreateMongoStoreAsync(fixture.NewDatabaseUri());

    [Fact]
    public async Task LeaseThenSave_WritesCamelCaseFields_AndBsonDates_AndClearsTheLease()
    {
        var uri = fixture.NewDatabaseUri();
        var store = await CreateMongoStoreAsync(uri);

        await store.TryLeaseRefreshAsync("ww1:abc", "a", T0, T0.AddSeconds(10), Ct);
        var leased = await Raw(uri).Find(new BsonDocument("_id", "ww1:abc")).SingleAsync(Ct);
        Assert.False(leased.Contains("accessToken"));
        Assert.Equal("a", leased["leaseOwner"].AsString);
        Assert.Equal(new BsonDateTime(T0.AddSeconds(10)), leased["leaseUntil"]);

        await store.SaveAsync(new CachedToken("ww1:abc", "ww1", "T", T0.AddHours(2), T0), Ct);

        var saved = await Raw(uri).Find(new BsonDocument("_id", "ww1:abc")).SingleAsync(Ct);
        Assert.Equal(BsonType.String, saved["_id"].BsonType);
        Assert.Equal("ww1", saved["corpId"].AsString);
        Assert.Equal("T", saved["accessToken"].AsString);
        Assert.Equal(new BsonDateTime(T0.AddHours(2)), saved["expiresAt"]);
        Assert.Equal(new BsonDateTime(T0), saved["fetchedAt"]);
        Assert.Equal(BsonNull.Value, saved["leaseOwner"]);
        Assert.Equal(BsonNull.Value, saved["leaseUntil"]);
    }

    [Fact]
    public async Task TwoReplicas_OnOneDatabase_ShareTheTokenAndTheLease()
    {
        var uri = fixture.NewDatabaseUri();
        var first = await CreateMongoStoreAsync(uri);
        var second = await CreateMongoStoreAsync(uri);

        Assert.True(await first.TryLeaseRefreshAsync("ww1:abc", "first", T0, T0.AddSeconds(10), Ct));
        Assert.False(await second.TryLeaseRefreshAsync("ww1:abc", "second", T0.AddSeconds(1), T0.AddSeconds(11), Ct));
        await first.SaveAsync(new CachedToken("ww1:abc", "ww1", "T", T0.AddHours(2), T0), Ct);

        Assert.Equal("T", (await second.GetAsync("ww1:abc", Ct))!.AccessToken);
        Assert.True(await second.TryLeaseRefreshAsync("ww1:abc", "second", T0.AddSeconds(2), T0.AddSeconds(12), Ct));
    }

    public void Dispose()
    {
        foreach (var store in _stores)
        {
            store.Dispose();
        }
    }

    private async Task<MongoTokenStore> CreateMongoStoreAsync(string uri)
    {
        var store = new MongoTokenStore(
            Options.Create(new StorageOptions { MongoUri = uri }),
            NullLogger<MongoTokenStore>.Instance);
        _stores.Add(store);
        await store.InitializeAsync(Ct);
        return store;
    }

    private IMongoCollection<BsonDocument> Raw(string uri) =>
        fixture.DatabaseFor(uri).GetCollection<BsonDocument>(MongoTokenStore.CollectionName);
}
