using MongoDB.Bson;
using MongoDB.Bson.Serialization.Attributes;

namespace WxkfManager.Registry;

/// <summary>
/// A puppet as the original Node service's mongoose model stored it, so an existing deployment's
/// database keeps working; <see cref="RegisteredAt"/> is ours and absent from its documents.
/// </summary>
[BsonIgnoreExtraElements] // mongoose writes __v
internal sealed partial class PuppetDocument
{
    [BsonId]
    public ObjectId Id { get; set; }

    [BsonElement("botEndpoint")]
    public string Endpoint { get; set; } = "";

    [BsonElement("name")]
    public string KfName { get; set; } = "";

    [BsonElement("kfOpenId")]
    public string KfId { get; set; } = "";

    [BsonElement("corpId")]
    public string CorpId { get; set; } = "";

    [BsonElement("corpSecret")]
    public string CorpSecret { get; set; } = "";

    [BsonElement("token")]
    public string Token { get; set; } = "";

    [BsonElement("encodingAESKey")]
    public string EncodingAesKey { get; set; } = "";

    [BsonElement("online")]
    public bool Online { get; set; }

    [BsonElement("lastOnlineDate")]
    public DateTime? LastOnlineDate { get; set; }

    [BsonElement("registeredAt")]
    public DateTime? RegisteredAt { get; set; }

    public PuppetRegistration ToRegistration() => new(
        KfId,
        KfName ?? "", // the original stored a missing name as null; a name is only shown, never needed
        Endpoint,
        CorpId,
        CorpSecret,
        Token,
        EncodingAesKey,
        Online,
        LastOnlineDate,
        RegisteredAt);
}
