namespace WxkfManager.Delivery;

/// <summary>What waits for one puppet: queued (all pending), due now, and being delivered (leased).</summary>
public sealed record QueuedCounts(int Queued, int Due, int InFlight)
{
    public static readonly QueuedCounts None = new(0, 0, 0);
}

/// <summary>The delivery queue counted per puppet, read straight from the store the queue lives in.</summary>
public interface IQueueBreakdown
{
    Task<IReadOnlyDictionary<string, QueuedCounts>> ByKfIdAsync(DateTime now, CancellationToken cancellationToken);
}
