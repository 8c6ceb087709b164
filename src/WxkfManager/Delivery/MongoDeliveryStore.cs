namespace WxkfManager.Delivery;

// Placeholder until the MongoDB queue lands from its branch.
public sealed class MongoDeliveryStore : IDeliveryStore
{
    public Task InitializeAsync(CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task<bool> TryEnqueueAsync(DeliveryRecord record, CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task<IReadOnlyList<DeliveryRecord>> ClaimDueAsync(string owner, int max, DateTime now, TimeSpan lease, CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task<bool> MarkDeliveredAsync(string id, string owner, int attempts, DateTime at, CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task<bool> RescheduleAsync(string id, string owner, int attempts, DateTime nextAttemptAt, string error, CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task<bool> DeadLetterAsync(string id, string owner, int attempts, string reason, DateTime at, CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task<DeliveryQueueStats> GetStatsAsync(DateTime now, CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task<IReadOnlyList<DeliveryRecord>> ListDeadLettersAsync(int limit, CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task<DeliveryRecord?> FindAsync(string id, CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task<bool> ReplayAsync(string id, DateTime now, DateTime expiresAt, CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task<int> ReplayAllAsync(DateTime now, DateTime expiresAt, CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task<int> PurgeAsync(DateTime deliveredBefore, DateTime deadBefore, CancellationToken cancellationToken) => throw new NotSupportedException();
}
