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

    private long _notifications;
    private int _storeMayHoldWork;

    /// <summary>The store may hold work for the worker: it reads it for due events when it wakes.</summary>
    public void Notify()
    {
        Interlocked.Increment(ref _notifications);
        Volatile.Write(ref _storeMayHoldWork, 1);
        _channel.Writer.TryWrite(true);
    }

    /// <summary>
    /// A probe slot came free: the worker wakes to start a probe that is due, without reading the store for claims. It
    /// does not wait for probes by the clock while the slots are full, since with more unreachable puppets than slots
    /// a probe is always past due: it woke every millisecond for one (and threw a cancellation each time), taking the
    /// one core's time from the healthy puppets' callbacks.
    /// </summary>
    public void NotifyProbeRoom() => _channel.Writer.TryWrite(true);

    /// <summary>How often the worker was woken so far: each wake-up may cost it a look at the store.</summary>
    public long Notifications => Interlocked.Read(ref _notifications);

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

    /// <summary>
    /// Returns when woken or when <paramref name="timeout"/> passes, whichever is first: true when woken by
    /// <see cref="Notify"/> (the store may hold work), false otherwise.
    /// </summary>
    public async Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        try
        {
            await _channel.Reader.ReadAsync(cts.Token);
            return Interlocked.Exchange(ref _storeMayHoldWork, 0) == 1;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }
}
