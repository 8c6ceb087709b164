namespace WxkfManager.Delivery;

/// <summary>
/// The durable delivery queue. Workers lease due records atomically, so on a shared store each record
/// is worked on by one worker at a time, and a lease that expires (its worker died) frees it again.
/// Every method that finishes a leased record checks the lease is still the caller's.
/// </summary>
public interface IDeliveryStore
{
    Task InitializeAsync(CancellationToken cancellationToken);

    /// <summary>Adds the record; false when one with the same SignatureKey or TokenKey exists (a resend).</summary>
    Task<bool> TryEnqueueAsync(DeliveryRecord record, CancellationToken cancellationToken);

    /// <summary>Leases up to <paramref name="max"/> pending records due by <paramref name="now"/>, oldest due first.</summary>
    Task<IReadOnlyList<DeliveryRecord>> ClaimDueAsync(string owner, int max, DateTime now, TimeSpan lease, CancellationToken cancellationToken);

    Task<bool> MarkDeliveredAsync(string id, string owner, int attempts, DateTime at, CancellationToken cancellationToken);

    Task<bool> RescheduleAsync(string id, string owner, int attempts, DateTime nextAttemptAt, string error, CancellationToken cancellationToken);

    Task<bool> DeadLetterAsync(string id, string owner, int attempts, string reason, DateTime at, CancellationToken cancellationToken);

    /// <summary>Records of one puppet not yet delivered nor dead (pending or in flight): what the per-puppet cap counts.</summary>
    Task<int> CountQueuedAsync(string kfId, CancellationToken cancellationToken);

    Task<DeliveryQueueStats> GetStatsAsync(DateTime now, CancellationToken cancellationToken);

    Task<IReadOnlyList<DeliveryRecord>> ListDeadLettersAsync(int limit, CancellationToken cancellationToken);

    Task<DeliveryRecord?> FindAsync(string id, CancellationToken cancellationToken);

    /// <summary>Puts a dead letter back in the queue, due now, with a fresh age limit; false when there is no such dead letter.</summary>
    Task<bool> ReplayAsync(string id, DateTime now, DateTime expiresAt, CancellationToken cancellationToken);

    Task<int> ReplayAllAsync(DateTime now, DateTime expiresAt, CancellationToken cancellationToken);

    /// <summary>Removes delivered records completed before <paramref name="deliveredBefore"/> and dead ones before <paramref name="deadBefore"/>.</summary>
    Task<int> PurgeAsync(DateTime deliveredBefore, DateTime deadBefore, CancellationToken cancellationToken);
}
