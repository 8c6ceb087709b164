namespace WxkfManager.Delivery;

public enum DeliveryState
{
    /// <summary>Waiting for its next attempt (or leased by a worker making it).</summary>
    Pending,
    Delivered,

    /// <summary>Given up on, with the reason; stays until replayed or purged.</summary>
    Dead,
}

/// <summary>
/// A verified callback in the durable queue. It is written before WeCom is answered, so an
/// acknowledged callback survives a crash of the manager. A claimed record's <see cref="LeaseOwner"/> is
/// that claim's own lease token; <see cref="Claims"/> counts claims since the last finished attempt, the
/// current one included, so an event whose delivery crashes its worker is noticed (see <see cref="DeliveryGate"/>).
/// </summary>
public sealed record DeliveryRecord(
    string Id,
    CallbackKind Kind,
    string CorpId,
    string KfId,
    string Body,
    SignedQuery? Query,
    string? SignatureKey,
    string TokenKey,
    DeliveryState State,
    int Attempts,
    DateTime ReceivedAt,
    DateTime NextAttemptAt,
    DateTime ExpiresAt,
    string? LeaseOwner,
    DateTime? LeaseUntil,
    string? LastError,
    DateTime? CompletedAt,
    int Claims = 0)
{
    /// <summary>WeCom resends a callback it thinks failed with the same signature, timestamp and nonce.</summary>
    public static string? SignatureKeyOf(SignedQuery? query) =>
        query is null ? null : $"{query.MsgSignature}|{query.Timestamp}|{query.Nonce}";

    /// <summary>The same sync token for the same puppet is the same event, however it arrived.</summary>
    public static string TokenKeyOf(string kfId, string syncToken) => $"{kfId}|{syncToken}";

    public PuppetDelivery ToDelivery(string endpoint) => new(Id, Kind, CorpId, KfId, endpoint, Body, Query, ReceivedAt);
}

public sealed record DeliveryQueueStats(int Pending, int Leased, int Dead, int Delivered, DateTime? OldestPendingReceivedAt);
