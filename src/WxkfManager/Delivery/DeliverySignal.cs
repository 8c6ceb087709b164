using System.Threading.Channels;

namespace WxkfManager.Delivery;

/// <summary>
/// Wakes the worker when the store may hold work for it (a puppet answers again, a lane has room), and remembers
/// the earliest retry this replica scheduled, so that retry is claimed when due rather than at the next poll.
/// </summary>
public sealed class DeliverySignal
{
    private readonly Channel<bool> _channel = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private long _earliestRetryTicks = long.MaxValue;

    public void Notify() => _channel.Writer.TryWrite(true);

    /// <summary>A retry falls due at <paramref name="at"/>.</summary>
    public void RetryDueAt(DateTime at)
    {
        var ticks = at.Ticks;
        var current = Interlocked.Read(ref _earliestRetryTicks);
        while (ticks < current)
        {
            var seen = Interlocked.CompareExchange(ref _earliestRetryTicks, ticks, current);
            if (seen == current)
            {
                return;
            }
            current = seen;
        }
    }

    /// <summary>The earliest retry due, if one is still ahead of <paramref name="now"/>; a past one is forgotten (the claim that follows takes it).</summary>
    public DateTime? NextRetryAt(DateTime now)
    {
        var ticks = Interlocked.Read(ref _earliestRetryTicks);
        if (ticks == long.MaxValue)
        {
            return null;
        }
        if (ticks <= now.Ticks)
        {
            Interlocked.CompareExchange(ref _earliestRetryTicks, long.MaxValue, ticks);
            return now;
        }
        return new DateTime(ticks, DateTimeKind.Utc);
    }

    /// <summary>Returns when notified or when <paramref name="timeout"/> passes, whichever is first.</summary>
    public async Task WaitAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        try
        {
            await _channel.Reader.ReadAsync(cts.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
        }
    }
}
