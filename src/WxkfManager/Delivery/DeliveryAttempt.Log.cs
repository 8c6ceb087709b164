namespace WxkfManager.Delivery;

public sealed partial class DeliveryAttempt
{
    /// <summary>One line per attempt: generated, so a line costs no boxing or parsing per call.</summary>
    private static partial class Log
    {
        [LoggerMessage(LogLevel.Warning, "Shutdown interrupted delivery for {KfId}; it stays queued")]
        public static partial void InterruptedByShutdown(ILogger logger, string kfId);

        [LoggerMessage(LogLevel.Information, "Delivered {Kind} callback for {KfId} to {Endpoint} in {ElapsedMs:F0} ms (HTTP {StatusCode}, attempt {Attempt}, {AgeMs:F0} ms after receipt)")]
        public static partial void Delivered(ILogger logger, CallbackKind kind, string kfId, string endpoint, double elapsedMs, int? statusCode, int attempt, double ageMs);

        [LoggerMessage(LogLevel.Information, "Puppet {KfId} answers again after {OutageSeconds:F1} s unreachable; its waiting events follow")]
        public static partial void PuppetAnswersAgain(ILogger logger, string kfId, double outageSeconds);

        [LoggerMessage(LogLevel.Warning, "Puppet {KfId} answers again, but its put-off events could not be made due ({Error}); they fall due by themselves within a lease duration")]
        public static partial void WakeFailed(ILogger logger, string kfId, string error);

        [LoggerMessage(LogLevel.Information, "Puppet {KfId} is unreachable: {Count} of its events leased here went back to the store, put off until it answers a probe")]
        public static partial void HandedBack(ILogger logger, string kfId, int count);

        [LoggerMessage(LogLevel.Warning, "Puppet {KfId} is unreachable, and {Count} of its events leased here could not be handed back ({Error}); they are taken again when their leases end")]
        public static partial void HandBackFailed(ILogger logger, string kfId, int count, string error);

        [LoggerMessage(LogLevel.Warning, "Delivery of {Kind} callback for {KfId} to {Endpoint} failed ({Reason}, attempt {Attempt}){Unreachable}; next attempt at {NextAttemptAt:O}")]
        public static partial void RetryScheduled(ILogger logger, CallbackKind kind, string kfId, string endpoint, string? reason, int attempt, string unreachable, DateTime nextAttemptAt);

        [LoggerMessage(LogLevel.Warning, "Dead-lettered {Kind} callback for {KfId}{Endpoint}: {Reason}")]
        public static partial void DeadLettered(ILogger logger, CallbackKind kind, string kfId, string endpoint, string reason);
    }
}
