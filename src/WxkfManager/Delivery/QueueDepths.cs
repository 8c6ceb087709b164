using System.Collections.Concurrent;

namespace WxkfManager.Delivery;

/// <summary>
/// Each puppet's events not yet delivered nor given up on, kept in memory so the per-puppet cap at intake costs no
/// store read. This replica counts what it queues and finishes; the worker sets the counts from the store when it
/// starts and every housekeeping round, which brings in other replicas' work and operators' replays.
/// Only puppets with queued events have an entry.
/// </summary>
public sealed class QueueDepths
{
    private readonly ConcurrentDictionary<string, int> _byKfId = new(StringComparer.Ordinal);

    public int Of(string kfId) => _byKfId.GetValueOrDefault(kfId);

    public void Queued(string kfId) => _byKfId.AddOrUpdate(kfId, 1, (_, count) => count + 1);

    public void Finished(string kfId)
    {
        while (_byKfId.TryGetValue(kfId, out var count))
        {
            if (count <= 1 ? _byKfId.TryRemove(new KeyValuePair<string, int>(kfId, count)) : _byKfId.TryUpdate(kfId, count - 1, count))
            {
                return;
            }
        }
    }

    public void Set(IReadOnlyDictionary<string, int> counts)
    {
        foreach (var kfId in _byKfId.Keys)
        {
            if (!counts.ContainsKey(kfId))
            {
                _byKfId.TryRemove(kfId, out _);
            }
        }
        foreach (var (kfId, count) in counts)
        {
            _byKfId[kfId] = count;
        }
    }
}
