using MongoDB.Bson;
using MongoDB.Bson.Serialization.Attributes;
using WxkfManager.Registry;

namespace WxkfManager.Storage.Mongo;

/// <summary>
/// A puppet as the original Node service's mongoose model stored it, so an existing deployment's
/// database keeps working; <see cref="RegisteredAt"/> is ours and absent from its documents.
/// </summary>
[BsonIgnoreExtraElements] // mongoose writes __v
public sealed partial class PuppetDocument
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

    /// <summary>Ours too: the instances registered since the puppet was last offline (see <see cref="HandOver"/>).</summary>
    [BsonElement("instances")]
    [BsonIgnoreIfNull]
    public List<PuppetInstanceDocument>? Instances { get; set; }

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
        RegisteredAt)
    {
        Instances = Instances is { Count: > 0 }
            ? Instances.Where(i => i.Address is not null && i.Endpoint is not null)
                .Select(i => new PuppetInstance(i.Address!, i.Endpoint!, i.RegisteredAt)).ToArray()
            : [],
    };
}

public sealed class PuppetInstanceDocument
{
    [BsonElement("address")]
    public string? Address { get; set; }

    [BsonElement("endpoint")]
    public string? Endpoint { get; set; }

    [BsonElement("registeredAt")]
    public DateTime RegisteredAt { get; set; }

    public static PuppetInstanceDocument From(PuppetInstance instance) =>
        new() { Address = instance.Address, Endpoint = instance.Endpoint, RegisteredAt = instance.RegisteredAt };
}
