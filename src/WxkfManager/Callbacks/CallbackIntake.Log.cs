using WxkfManager.Crypto;
using WxkfManager.Delivery;

namespace WxkfManager.Callbacks;

public sealed partial class CallbackIntake
{
    /// <summary>Every callback writes one of these: generated, so a line costs no boxing or parsing per call.</summary>
    private static partial class Log
    {
        [LoggerMessage(LogLevel.Information, "Callback URL verified for {CorpId}")]
        public static partial void UrlVerified(ILogger logger, string corpId);

        [LoggerMessage(LogLevel.Information, "Resend of an accepted callback for {CorpId}; answered without queueing again")]
        public static partial void ResendAnswered(ILogger logger, string corpId);

        [LoggerMessage(LogLevel.Information, "Ignoring event {Event} for {CorpId}: only kf_msg_or_event is forwarded")]
        public static partial void EventIgnored(ILogger logger, string @event, string corpId);

        [LoggerMessage(LogLevel.Warning, "Decrypted callback for {KfId}, which is not registered and online in {CorpId}; answered, not stored")]
        public static partial void DecryptedForUnknownPuppet(ILogger logger, string kfId, string corpId);

        [LoggerMessage(LogLevel.Warning, "Refused {Kind} callback for {KfId} in {CorpId}: its queue holds {MaxQueued} events already; the sender is told to retry")]
        public static partial void QueueFull(ILogger logger, CallbackKind kind, string kfId, string corpId, int maxQueued);

        [LoggerMessage(LogLevel.Error, "Could not queue {Kind} callback for {KfId}: {Error}; refusing it so the sender retries")]
        public static partial void EnqueueFailed(ILogger logger, CallbackKind kind, string kfId, string error);

        [LoggerMessage(LogLevel.Warning, "Queued {Kind} callback for {KfId} put off, and its puppet answered meanwhile, but the callback could not be made due ({Error}); it falls due by itself within a lease duration")]
        public static partial void WakeFailed(ILogger logger, CallbackKind kind, string kfId, string error);

        [LoggerMessage(LogLevel.Information, "Duplicate {Kind} callback for {KfId} (a resend); already queued")]
        public static partial void Duplicate(ILogger logger, CallbackKind kind, string kfId);

        [LoggerMessage(LogLevel.Warning, "Dead-lettered {Kind} callback {DeliveryId} for {KfId} in {CorpId}: {Reason}")]
        public static partial void DeadLettered(ILogger logger, CallbackKind kind, string deliveryId, string kfId, string corpId, string reason);

        [LoggerMessage(LogLevel.Information, "Queued {Kind} callback {DeliveryId} for {KfId}")]
        public static partial void Queued(ILogger logger, CallbackKind kind, string deliveryId, string kfId);

        [LoggerMessage(LogLevel.Warning, "Callback for {CorpId} has a valid signature but cannot be opened: {Reason}")]
        public static partial void Unopenable(ILogger logger, string corpId, OpenStatus reason);

        [LoggerMessage(LogLevel.Warning, "Callback for {CorpId} refused: the store is not ready ({Reason}); the sender will retry")]
        public static partial void StoreNotReady(ILogger logger, string corpId, string? reason);

        [LoggerMessage(LogLevel.Warning, "Callback for {CorpId} refused: {Reason}")]
        public static partial void Refused(ILogger logger, string corpId, string reason);

        [LoggerMessage(LogLevel.Warning, "Callback for {CorpId}, which has no registered puppet")]
        public static partial void UnknownCorp(ILogger logger, string corpId);

        [LoggerMessage(LogLevel.Warning, "Callback for {CorpId} matches none of its {CredentialCount} registered apps' signatures")]
        public static partial void SignatureMismatch(ILogger logger, string corpId, int credentialCount);
    }
}
