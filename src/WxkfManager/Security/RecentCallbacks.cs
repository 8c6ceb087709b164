using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using WxkfManager.Settings;

namespace WxkfManager.Security;

/// <summary>
/// The signatures of recently accepted callbacks, bounded and oldest-out. A resend inside the timestamp
/// window is answered from here without touching the store; the store's own deduplication still catches
/// what this forgot or another replica saw.
/// </summary>
/// <remarks>
/// Each signature is kept as 128 bits of its SHA-256, not as its string: at the default 100,000 that is
/// about 6 MB instead of about 22 MB (docs/benchmarks.md). Two different callbacks share a fingerprint
/// with a probability of about 2⁻⁹⁶ at that size (n²/2 pairs of 2¹²⁸ values).
/// </remarks>
public sealed class RecentCallbacks(IOptions<CallbackOptions> options)
{
    private readonly Lock _lock = new();
    private readonly HashSet<UInt128> _seen = [];
    private readonly Queue<UInt128> _order = new();
    private readonly int _capacity = options.Value.RecentCallbackCacheSize;

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _seen.Count;
            }
        }
    }

    public bool Contains(string signatureKey)
    {
        if (_capacity == 0)
        {
            return false;
        }
        var fingerprint = Fingerprint(signatureKey);
        lock (_lock)
        {
            return _seen.Contains(fingerprint);
        }
    }

    public void Add(string signatureKey)
    {
        if (_capacity == 0)
        {
            return;
        }
        var fingerprint = Fingerprint(signatureKey);
        lock (_lock)
        {
            if (!_seen.Add(fingerprint))
            {
                return;
            }
            _order.Enqueue(fingerprint);
            while (_order.Count > _capacity)
            {
                _seen.Remove(_order.Dequeue());
            }
        }
    }

    private static UInt128 Fingerprint(string signatureKey)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(MemoryMarshal.AsBytes(signatureKey.AsSpan()), hash);
        return BinaryPrimitives.ReadUInt128LittleEndian(hash);
    }
}
