namespace WxkfManager.Delivery;

/// <summary>
/// The durable delivery queue. Workers lease due records atomically, so on a shared store each record
/// is worked on by one worker at a time, and a lease that expires (its worker died) frees it again.
/// Every method that finishes a leased record checks the lease is still the caller's.
/// </summary>
public interface IDeliveryStore
{
    Task InitializeAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Adds the record as given (leased already when the replica that accepted it delivers it from memory).
    /// When one with the same SignatureKey or TokenKey exists it is a resend: <see cref="EnqueueOutcome.Duplicate"/>,
    /// unless that earlier copy was given up on (a dead letter), which is queued again, unleased, instead.
    /// </summary>
    Task<EnqueueOutcome> EnqueueAsync(DeliveryRecord record, CancellationToken cancellationToken);

    /// <summary>
    /// Moves the end of a lease this replica holds (its token in <paramref name="leaseToken"/>): later, for an event
    /// that waited in memory, or now, to hand it back. False when the lease is no longer this token's.
    /// </summary>
    Task<bool> RenewLeaseAsync(string id, string leaseToken, DateTime until, CancellationToken cancellationToken);

    /// <summary>
    /// Hands back together events this replica leased but never started (each named by its own lease token in
    /// <see cref="DeliveryRecord.LeaseOwner"/>): the lease ends without counting as a crashed claim. At shutdown
    /// (<paramref name="putOffUntil"/> null) each stays due as it was, so another replica takes it at once; when their puppet
    /// stopped answering, each is put off until <paramref name="putOffUntil"/> (never earlier than it was due, nor past its
    /// age limit), to wait for the puppet's probe as its stored events do (<see cref="ParkAsync"/>).
    /// Returns how many were still this replica's.
    /// </summary>
    Task<int> HandBackAsync(IReadOnlyList<DeliveryRecord> held, DateTime? putOffUntil, CancellationToken cancellationToken);

    /// <summary>Leases up to <paramref name="max"/> pending records due by <paramref name="now"/>, oldest due first.</summary>
    Task<IReadOnlyList<DeliveryRecord>> ClaimDueAsync(string owner, int max, DateTime now, TimeSpan lease, CancellationToken cancellationToken);

    /// <summary>
    /// As <see cref="ClaimDueAsync(string, int, DateTime, TimeSpan, CancellationToken)"/>, leaving out the events of
    /// <paramref name="waitingKfIds"/> (unreachable puppets, whose events wait for a probe) unless past their age limit.
    /// </summary>
    Task<IReadOnlyList<DeliveryRecord>> ClaimDueAsync(
        string owner, int max, DateTime now, TimeSpan lease, IReadOnlyCollection<string> waitingKfIds, CancellationToken cancellationToken);

    /// <summary>
    /// Leases the puppet's oldest queued event that no worker holds, due or put off (see <see cref="ParkAsync"/>), to probe
    /// whether the puppet answers again: everything it holds waits on that answer. Null when there is none.
    /// </summary>
    Task<DeliveryRecord?> ClaimOldestForPuppetAsync(string owner, string kfId, DateTime now, TimeSpan lease, CancellationToken cancellationToken);

    /// <summary>
    /// Puts off the due events no worker holds of <paramref name="kfIds"/> (puppets that stopped answering: only their probe
    /// goes out) until <paramref name="until"/>, or their age limit if that comes first. Claims then read past none of
    /// them, however large the backlog grows; a probe still takes them, <see cref="WakeAsync"/> makes them due when the
    /// puppet answers, and should this replica die they fall due again at <paramref name="until"/> for another.
    /// Returns how many were put off.
    /// </summary>
    Task<int> ParkAsync(IReadOnlyCollection<string> kfIds, DateTime now, DateTime until, CancellationToken cancellationToken);

    /// <summary>The puppet answers again: its events that wait for a later time and no worker holds become due now. Returns how many.</summary>
    Task<int> WakeAsync(string kfId, DateTime now, CancellationToken cancellationToken);

    /// <summary>
    /// A replica starts knowing no puppet's health: every event that waits for a later time and no worker holds becomes
    /// due now, so a puppet that came back while no replica ran is not left waiting out its events' put-off. Returns how many.
    /// </summary>
    Task<int> WakeAllAsync(DateTime now, CancellationToken cancellationToken);

    /// <summary>Pending events per puppet (kfId), for operators.</summary>
    Task<IReadOnlyDictionary<string, int>> CountPendingByPuppetAsync(CancellationToken cancellationToken);

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

    /// <summary>
    /// A puppet registered again: its waiting events become due now, and its dead letters received since
    /// <paramref name="receivedSince"/> are queued again with a fresh age limit. Returns how many events were released.
    /// </summary>
    Task<int> ReleaseForPuppetAsync(string kfId, DateTime now, DateTime receivedSince, DateTime expiresAt, CancellationToken cancellationToken);

    /// <summary>Removes delivered records completed before <paramref name="deliveredBefore"/> and dead ones before <paramref name="deadBefore"/>.</summary>
    Task<int> PurgeAsync(DateTime deliveredBefore, DateTime deadBefore, CancellationToken cancellationToken);
}

public enum EnqueueOutcome
{
    /// <summary>Stored as given.</summary>
    Queued,

    /// <summary>An earlier copy that was given up on is queued again in its place (unleased); the given record was not stored.</summary>
    Requeued,

    /// <summary>A resend of an event already queued or delivered; nothing stored.</summary>
    Duplicate,
}

public static class DeliveryStoreExtensions
{
    /// <summary>As <see cref="IDeliveryStore.EnqueueAsync"/>; false for a duplicate.</summary>
    public static async Task<bool> TryEnqueueAsync(this IDeliveryStore store, DeliveryRecord record, CancellationToken cancellationToken) =>
        await store.EnqueueAsync(record, cancellationToken) != EnqueueOutcome.Duplicate;
}
