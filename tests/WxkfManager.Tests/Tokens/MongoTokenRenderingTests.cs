using MongoDB.Bson;
using MongoDB.Bson.Serialization;
using MongoDB.Driver;
using WxkfManager.Tokens;
using WxkfManager.Storage.Mongo;

namespace WxkfManager.Tests.Tokens;

/// <summary>What <see cref="MongoTokenStore"/> sends to MongoDB and where, checked without a server.</summary>
public sealed class MongoTokenRenderingTests
{
    private static readonly RenderArgs<TokenDocument> Args =
        new(BsonSerializer.LookupSerializer<TokenDocument>(), BsonSerializer.SerializerRegistry);

    private static readonly DateTime At = new(2024, 5, 6, 7, 8, 9, 123, DateTimeKind.Utc);
    private const string AtJson = """{ "$date" : "2024-05-06T07:08:09.123Z" }""";
    private const string LaterJson = """{ "$date" : "2024-05-06T07:08:39.123Z" }""";

    // Its collection and database: MongoStoreLocationTests, with the other stores'.

    [Fact]
    public void ClassMap_NamesFieldsInCamelCase_WithTheCacheKeyAsId()
    {
        var map = BsonClassMap.LookupClassMap(typeof(TokenDocument));

        Assert.Equal(nameof(TokenDocument.Id), map.IdMemberMap.MemberName);
        Assert.Equal(
            [
                ("_id", typeof(string)),
                ("corpId", typeof(string)),
                ("accessToken", typeof(string)),
                ("expiresAt", typeof(DateTime?)),
                ("fetchedAt", typeof(DateTime?)),
                ("leaseOwner", typeof(string)),
                ("leaseUntil", typeof(DateTime?)),
            ],
            map.AllMemberMaps.Select(m => (m.ElementName, m.MemberType)));
        Assert.True(map.IgnoreExtraElements);
    }

    [Fact]
    public void Document_SerializesWithStringId_AndBsonDates()
    {
        var document = new TokenDocument
        {
            Id = "ww1:abc", CorpId = "ww1", AccessToken = "T", ExpiresAt = At.AddHours(2), FetchedAt = At,
            LeaseOwner = "a", LeaseUntil = At.AddSeconds(30),
        };

        var bson = document.ToBsonDocument();

        Assert.Equal(
            new BsonDocument
            {
                { "_id", "ww1:abc" },
                { "corpId", "ww1" },
                { "accessToken", "T" },
                { "expiresAt", new BsonDateTime(At.AddHours(2)) },
                { "fetchedAt", new BsonDateTime(At) },
                { "leaseOwner", "a" },
                { "leaseUntil", new BsonDateTime(At.AddSeconds(30)) },
            },
            bson);
        Assert.All(new[] { "expiresAt", "fetchedAt", "leaseUntil" }, name => Assert.Equal(BsonType.DateTime, bson[name].BsonType));
    }

    [Fact]
    public void LeaseOnlyDocument_WithUnknownFields_DeserializesToNoToken()
    {
        var bson = new BsonDocument
        {
            { "_id", "ww1:abc" },
            { "leaseOwner", "a" },
            { "leaseUntil", new BsonDateTime(At) },
            { "addedByANewerReplica", 1 },
        };

        var document = BsonSerializer.Deserialize<TokenDocument>(bson);

        Assert.Null(document.ToToken());
        Assert.Equal(DateTimeKind.Utc, document.LeaseUntil!.Value.Kind);
    }

    [Fact]
    public void SavedDocument_ReadsBackAsTheToken_InUtc()
    {
        var bson = new BsonDocument
        {
            { "_id", "ww1:abc" },
            { "corpId", "ww1" },
            { "accessToken", "T" },
            { "expiresAt", new BsonDateTime(At.AddHours(2)) },
            { "fetchedAt", new BsonDateTime(At) },
            { "leaseOwner", BsonNull.Value },
            { "leaseUntil", BsonNull.Value },
        };

        var token = BsonSerializer.Deserialize<TokenDocument>(bson).ToToken();

        Assert.Equal(new CachedToken("ww1:abc", "ww1", "T", At.AddHours(2), At), token);
        Assert.Equal(DateTimeKind.Utc, token!.ExpiresAt.Kind);
        Assert.Equal(DateTimeKind.Utc, token.FetchedAt.Kind);
    }

    [Fact]
    public void Get_FindsTheKey_OnlyWithAToken()
    {
        Assert.Equal(
            """{ "_id" : "ww1:abc", "accessToken" : { "$ne" : null } }""",
            MongoTokenStore.Filters.TokenFor("ww1:abc").Render(Args).ToJson());
    }

    [Fact]
    public void Save_UpsertsTheToken_AndReleasesTheLease()
    {
        Assert.Equal("""{ "_id" : "ww1:abc" }""", MongoTokenStore.Filters.ById("ww1:abc").Render(Args).ToJson());
        Assert.Equal(
            $$"""{ "$set" : { "corpId" : "ww1", "accessToken" : "T", "expiresAt" : {{LaterJson}}, "fetchedAt" : {{AtJson}}, "leaseOwner" : null, "leaseUntil" : null } }""",
            Render(MongoTokenStore.Updates.Save(new CachedToken("ww1:abc", "ww1", "T", At.AddSeconds(30), At))));
        Assert.True(MongoTokenStore.Upsert.IsUpsert);
    }

    [Fact]
    public void Save_ReplacesOnlyATokenFetchedNoLater_ElseInsertsOnlyIfAbsent()
    {
        var token = new CachedToken("ww1:abc", "ww1", "T", At.AddSeconds(30), At);

        Assert.Equal(
            $$"""{ "_id" : "ww1:abc", "$or" : [{ "fetchedAt" : null }, { "fetchedAt" : { "$lte" : {{AtJson}} } }] }""",
            MongoTokenStore.Filters.SaveableOver(token).Render(Args).ToJson());
        Assert.Equal(
            $$"""{ "$setOnInsert" : { "corpId" : "ww1", "accessToken" : "T", "expiresAt" : {{LaterJson}}, "fetchedAt" : {{AtJson}} } }""",
            Render(MongoTokenStore.Updates.SaveIfAbsent(token)));
    }

    [Fact]
    public void ALeaseOnANewKey_IsCreatedOnlyIfAbsent_SoAWaitingReplicaMatchesNothing_InsteadOfADuplicateKey()
    {
        Assert.Equal(
            $$"""{ "$setOnInsert" : { "leaseOwner" : "a", "leaseUntil" : {{LaterJson}} } }""",
            Render(MongoTokenStore.Updates.LeaseIfAbsent("a", At.AddSeconds(30))));
    }

    [Fact]
    public void Lease_MatchesTheKey_UnleasedExpiredOrOwnedByTheCaller()
    {
        Assert.Equal(
            $$"""{ "_id" : "ww1:abc", "$or" : [{ "leaseUntil" : null }, { "leaseUntil" : { "$lte" : {{AtJson}} } }, { "leaseOwner" : "a" }] }""",
            MongoTokenStore.Filters.Leasable("ww1:abc", "a", At).Render(Args).ToJson());
        Assert.Equal(
            $$"""{ "$set" : { "leaseOwner" : "a", "leaseUntil" : {{LaterJson}} } }""",
            Render(MongoTokenStore.Updates.Lease("a", At.AddSeconds(30))));
    }

    [Fact]
    public void Release_ClearsTheLease_OnlyForItsOwner()
    {
        Assert.Equal(
            """{ "_id" : "ww1:abc", "leaseOwner" : "a" }""",
            MongoTokenStore.Filters.LeasedBy("ww1:abc", "a").Render(Args).ToJson());
        Assert.Equal("""{ "$set" : { "leaseOwner" : null, "leaseUntil" : null } }""", Render(MongoTokenStore.Updates.Release));
    }

    private static string Render(UpdateDefinition<TokenDocument> update) => update.Render(Args).ToJson();
}
