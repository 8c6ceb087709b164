using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using WxkfManager.Settings;

namespace WxkfManager.Security;

/// <summary>
/// The signatures of recently accepted callbacks, bounded and oldest-out. A resend inside the timestamp
/// window is answered from here without touching the store; the store's own deduplication still catches
/// what this forgot or another replica saw.
/// </summary>
public sealed class RecentCallbacks(IOptions<CallbackOptions> options)
{
    private readonly ConcurrentDictionary<string, byte> _seen = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _order = new();
    private readonly int _capacity = options.Value.RecentCallbackCacheSize;

    public bool Contains(string signatureKey) => _seen.ContainsKey(signatureKey);

    public void Add(string signatureKey)
    {
        if (_capacity == 0 || !_seen.TryAdd(signatureKey, 0))
        {
            return;
        }
        _order.Enqueue(signatureKey);
        while (_order.Count > _capacity && _order.TryDequeue(out var oldest))
        {
            _seen.TryRemove(oldest, out _);
        }
    }
}
