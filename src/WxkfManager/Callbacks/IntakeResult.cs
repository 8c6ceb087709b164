namespace WxkfManager.Callbacks;

public enum IntakeStatus
{
    /// <summary>Verified and queued for its puppet.</summary>
    Queued,

    /// <summary>Verified; the answer is the decrypted echostr.</summary>
    Verified,

    /// <summary>Verified, but nothing to forward (another event type).</summary>
    Ignored,

    /// <summary>A resend of an event already queued.</summary>
    Duplicate,

    /// <summary>Recorded as a dead letter: its puppet is deregistered or unknown.</summary>
    DeadLettered,

    UnknownCorp,

    StaleTimestamp,
    SignatureMismatch,
    Undecryptable,
    MalformedEvent,
    StoreUnavailable,

    /// <summary>Not stored: the puppet already has Callback:MaxQueuedPerPuppet events waiting.</summary>
    QueueFull,

    /// <summary>An unsigned (decrypted) event for a kfId not registered and online in that corp: answered like any other, not stored.</summary>
    UnknownPuppet,
}

/// <summary>
/// What became of a callback: its status, and what goes with it. <see cref="Reason"/> is the short reason a client
/// may see (never a secret); <see cref="DeliveryId"/> is a queued event's id (its correlation id);
/// <see cref="Echostr"/> is the decrypted answer to WeCom's URL verification.
/// </summary>
public readonly record struct IntakeResult(IntakeStatus Status, string? Reason = null, string? DeliveryId = null, string? Echostr = null)
{
    public static IntakeResult Of(IntakeStatus status, string reason) => new(status, Reason: reason);

    public static IntakeResult QueuedAs(string deliveryId) => new(IntakeStatus.Queued, DeliveryId: deliveryId);

    public static IntakeResult VerifiedWith(string echostr) => new(IntakeStatus.Verified, Echostr: echostr);
}
