using MongoDB.Bson;
using MongoDB.Bson.Serialization.Attributes;
using WxkfManager.Delivery;

namespace WxkfManager.Storage.Mongo;

/// <summary>
/// A <see cref="DeliveryRecord"/> in the <c>wxkfdeliveries</c> collection. Times are BSON dates, so
/// millisecond precision, and read back as UTC.
/// </summary>
[BsonIgnoreExtraElements] // a newer replica sharing the collection may write fields this one does not know
internal sealed class DeliveryDocument
{
    [BsonId]
    public string Id { get; set; } = "";

    [BsonElement("kind")]
    [BsonRepresentation(BsonType.String)]
    public CallbackKind Kind { get; set; }

    [BsonElement("corpId")]
    public string CorpId { get; set; } = "";

    [BsonElement("kfId")]
    public string KfId { get; set; } = "";

    [BsonElement("body")]
    public string Body { get; set; } = "";

    [BsonElement("msgSignature")]
    public string? MsgSignature { get; set; }

    [BsonElement("timestamp")]
    public string? Timestamp { get; set; }

    [BsonElement("nonce")]
    public string? Nonce { get; set; }

    // Absent, never null, for decrypted callbacks: the unique index only covers documents where it is a string.
    [BsonElement("signatureKey")]
    [BsonIgnoreIfNull]
    public string? SignatureKey { get; set; }

    [BsonElement("tokenKey")]
    public string TokenKey { get; set; } = "";

    [BsonElement("state")]
    [BsonRepresentation(BsonType.String)]
    public DeliveryState State { get; set; }

    [BsonElement("attempts")]
    public int Attempts { get; set; }

    [BsonElement("receivedAt")]
    public DateTime ReceivedAt { get; set; }

    [BsonElement("nextAttemptAt")]
    public DateTime NextAttemptAt { get; set; }

    [BsonElement("expiresAt")]
    public DateTime ExpiresAt { get; set; }

    [BsonElement("leaseOwner")]
    public string? LeaseOwner { get; set; }

    [BsonElement("leaseUntil")]
    public DateTime? LeaseUntil { get; set; }

    [BsonElement("lastError")]
    public string? LastError { get; set; }

    [BsonElement("completedAt")]
    public DateTime? CompletedAt { get; set; }

    /// <summary>Claims since the last finished attempt (absent in documents older than the field: none).</summary>
    [BsonElement("claims")]
    public int Claims { get; set; }

    /// <summary>When the TTL index removes a finished record; absent while it is pending.</summary>
    [BsonElement("purgeAt")]
    [BsonIgnoreIfNull]
    public DateTime? PurgeAt { get; set; }

    /// <summary>The lease token of the claim whose completion last applied (see MongoDeliveryStore.Groups.cs); not part of the record.</summary>
    [BsonElement("finishedLease")]
    [BsonIgnoreIfNull]
    public string? FinishedLease { get; set; }

    public static DeliveryDocument FromRecord(DeliveryRecord record) => new()
    {
        Id = record.Id,
        Kind = record.Kind,
        CorpId = record.CorpId,
        KfId = record.KfId,
        Body = record.Body,
        MsgSignature = record.Query?.MsgSignature,
        Timestamp = record.Query?.Timestamp,
        Nonce = record.Query?.Nonce,
        SignatureKey = record.SignatureKey,
        TokenKey = record.TokenKey,
        State = record.State,
        Attempts = record.Attempts,
        ReceivedAt = record.ReceivedAt,
        NextAttemptAt = record.NextAttemptAt,
        ExpiresAt = record.ExpiresAt,
        LeaseOwner = record.LeaseOwner,
        LeaseUntil = record.LeaseUntil,
        LastError = record.LastError,
        CompletedAt = record.CompletedAt,
        Claims = record.Claims,
    };

    public DeliveryRecord ToRecord() => new(
        Id,
        Kind,
        CorpId,
        KfId,
        Body,
        (MsgSignature, Timestamp, Nonce) is ({ } signature, { } timestamp, { } nonce) ? new SignedQuery(signature, timestamp, nonce) : null,
        SignatureKey,
        TokenKey,
        State,
        Attempts,
        ReceivedAt,
        NextAttemptAt,
        ExpiresAt,
        LeaseOwner,
        LeaseUntil,
        LastError,
        CompletedAt,
        Claims);
}
