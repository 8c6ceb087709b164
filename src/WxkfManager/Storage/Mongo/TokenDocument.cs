using MongoDB.Bson.Serialization.Attributes;
using WxkfManager.Tokens;

namespace WxkfManager.Storage.Mongo;

/// <summary>
/// A cache key's row in the <c>wxkfaccesstokens</c> collection. A refresh lease may create the document
/// before any token exists, so the token fields stay absent until the first save. Times are BSON dates,
/// so millisecond precision, and read back as UTC.
/// </summary>
[BsonIgnoreExtraElements] // a newer replica sharing the collection may write fields this one does not know
internal sealed class TokenDocument
{
    [BsonId]
    public string Id { get; set; } = "";

    [BsonElement("corpId")]
    public string CorpId { get; set; } = "";

    [BsonElement("accessToken")]
    public string? AccessToken { get; set; }

    [BsonElement("expiresAt")]
    public DateTime? ExpiresAt { get; set; }

    [BsonElement("fetchedAt")]
    public DateTime? FetchedAt { get; set; }

    [BsonElement("leaseOwner")]
    public string? LeaseOwner { get; set; }

    [BsonElement("leaseUntil")]
    public DateTime? LeaseUntil { get; set; }

    /// <summary>The cached token, or null for a document holding only a lease.</summary>
    public CachedToken? ToToken() =>
        (AccessToken, ExpiresAt, FetchedAt) is ({ } token, { } expiresAt, { } fetchedAt)
            ? new CachedToken(Id, CorpId, token, expiresAt, fetchedAt)
            : null;
}
