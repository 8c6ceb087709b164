using MongoDB.Bson;

namespace WxkfManager.Tests.Registry;

/// <summary>A puppet as the original Node service's mongoose model left it in <c>wxkfpuppets</c>.</summary>
public static class MongooseDocuments
{
    public static BsonDocument Puppet(string kfId = "wk1", string encodingAesKey = "key", ObjectId? id = null) => new()
    {
        { "_id", id ?? ObjectId.GenerateNewId() },
        { "botEndpoint", "http://10.0.0.5:8080" },
        { "name", "Support" },
        { "kfOpenId", kfId },
        { "corpId", "ww1" },
        { "corpSecret", "secret" },
        { "token", "token" },
        { "encodingAESKey", encodingAesKey },
        { "online", true },
        { "__v", 0 },
    };
}
