using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.Options;
using WxkfManager.Settings;

namespace WxkfManager.Security;

/// <summary>
/// Counts callbacks with a bad signature per client address in one-minute windows; an address past the
/// limit is refused until its window ends, so guessing signatures or burning CPU on crypto does not pay.
/// At most <see cref="Capacity"/> addresses are counted: when full, windows that ended go first, then
/// addresses not (yet) refused; refused ones stay refused.
/// </summary>
public sealed class SignatureFailureLimiter(IOptionsMonitor<SecurityOptions> options, TimeProvider time)
{
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    // Making room walks every counter: at most this often, however fast new addresses fail.
    private static readonly TimeSpan MinimumSweepInterval = TimeSpan.FromSeconds(1);

    private readonly ConcurrentDictionary<IPAddress, Counter> _counters = new();
    private readonly Lock _sweepLock = new();
    private DateTimeOffset _lastSweep = DateTimeOffset.MinValue;

    /// <summary>Addresses counted at most (IPv6 gives an attacker as many as it likes).</summary>
    internal int Capacity { get; init; } = 100_000;

    internal int TrackedAddresses => _counters.Count;

    public bool IsBlocked(IPAddress? address) =>
        address is not null
        && _counters.TryGetValue(address, out var counter)
        && time.GetUtcNow() - counter.WindowStart < Window
        && counter.Failures >= options.CurrentValue.SignatureFailuresPerMinute;

    public void RecordFailure(IPAddress? address)
    {
        if (address is null)
        {
            return;
        }
        var now = time.GetUtcNow();
        if (!_counters.ContainsKey(address) && _counters.Count >= Capacity && !MadeRoom(now))
        {
            // Full of refused addresses: this one is not counted until a window ends.
            return;
        }
        _counters.AddOrUpdate(address,
            _ => new Counter(now, 1),
            (_, counter) => now - counter.WindowStart >= Window ? new Counter(now, 1) : counter with { Failures = counter.Failures + 1 });
    }

    private bool MadeRoom(DateTimeOffset now)
    {
        lock (_sweepLock)
        {
            if (now - _lastSweep >= MinimumSweepInterval)
            {
                _lastSweep = now;
                var limit = options.CurrentValue.SignatureFailuresPerMinute;
                foreach (var (key, counter) in _counters)
                {
                    if (now - counter.WindowStart >= Window)
                    {
                        _counters.TryRemove(key, out _);
                    }
                }
                if (_counters.Count >= Capacity)
                {
                    foreach (var (key, counter) in _counters)
                    {
                        if (counter.Failures < limit)
                        {
                            _counters.TryRemove(key, out _);
                        }
                    }
                }
            }
        }
        return _counters.Count < Capacity;
    }

    private sealed record Counter(DateTimeOffset WindowStart, int Failures);
}
