using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.Options;
using WxkfManager.Options;

namespace WxkfManager.Security;

/// <summary>
/// Counts callbacks with a bad signature per client address in one-minute windows; an address past the
/// limit is refused until its window ends, so guessing signatures or burning CPU on crypto does not pay.
/// </summary>
public sealed class SignatureFailureLimiter(IOptionsMonitor<SecurityOptions> options, TimeProvider time)
{
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(1);
    private const int MaxTrackedAddresses = 100_000;

    private readonly ConcurrentDictionary<IPAddress, Counter> _counters = new();

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
        if (_counters.Count >= MaxTrackedAddresses)
        {
            foreach (var (key, stale) in _counters)
            {
                if (now - stale.WindowStart >= Window)
                {
                    _counters.TryRemove(key, out _);
                }
            }
        }
        _counters.AddOrUpdate(address,
            _ => new Counter(now, 1),
            (_, counter) => now - counter.WindowStart >= Window ? new Counter(now, 1) : counter with { Failures = counter.Failures + 1 });
    }

    private sealed record Counter(DateTimeOffset WindowStart, int Failures);
}
