namespace WxkfManager.Registry;

/// <summary>
/// Ids (kfIds, corpIds) the store was recently asked about and did not have, each remembered for
/// <paramref name="duration"/>, at most <paramref name="capacity"/> of them, oldest out: a flood of callbacks
/// naming the same unknown id costs one store read per period, not one each. Forgetting is the caller's job the
/// moment the id becomes known, so remembering never hides a registration.
/// </summary>
public sealed class RecentMisses(int capacity, TimeSpan duration, TimeProvider time)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, long> _until = new(StringComparer.Ordinal);
    // Oldest first; may hold entries already forgotten or remembered again later (skipped when they come out).
    private readonly Queue<(string Id, long Until)> _order = new();

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _until.Count;
            }
        }
    }

    public bool Contains(string id)
    {
        lock (_lock)
        {
            if (!_until.TryGetValue(id, out var until))
            {
                return false;
            }
            if (Now() < until)
            {
                return true;
            }
            _until.Remove(id);
            return false;
        }
    }

    public void Remember(string id)
    {
        if (capacity == 0 || duration <= TimeSpan.Zero)
        {
            return;
        }
        lock (_lock)
        {
            var now = Now();
            var until = now + duration.Ticks;
            _until[id] = until;
            _order.Enqueue((id, until));
            // Expired entries go first; past the capacity, the oldest live ones. The queue never outgrows twice
            // the capacity, however often the same ids are remembered and forgotten.
            while (_order.TryPeek(out var oldest)
                   && (oldest.Until <= now || _until.Count > capacity || _order.Count > 2 * capacity))
            {
                _order.Dequeue();
                if (_until.TryGetValue(oldest.Id, out var current) && current == oldest.Until)
                {
                    _until.Remove(oldest.Id);
                }
            }
        }
    }

    public void Forget(string id)
    {
        lock (_lock)
        {
            _until.Remove(id);
        }
    }

    private long Now() => time.GetUtcNow().UtcTicks;
}
