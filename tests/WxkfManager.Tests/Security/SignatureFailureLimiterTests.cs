using System.Net;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using WxkfManager.Settings;
using WxkfManager.Security;

namespace WxkfManager.Tests.Security;

/// <summary>The bad-signature limiter counts a bounded number of addresses, however many an attacker has.</summary>
public sealed class SignatureFailureLimiterTests
{
    private const int Limit = 3;

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero));

    private SignatureFailureLimiter NewLimiter(int capacity) =>
        new(new Fixed(new SecurityOptions { SignatureFailuresPerMinute = Limit }), _time) { Capacity = capacity };

    private static IPAddress V6(int i) => IPAddress.Parse($"2001:db8::{i:x}");

    [Fact]
    public void AFloodOfNewAddresses_StaysWithinTheCapacity()
    {
        var limiter = NewLimiter(capacity: 100);

        for (var i = 0; i < 10_000; i++)
        {
            limiter.RecordFailure(V6(i));
            if (i % 50 == 0)
            {
                _time.Advance(TimeSpan.FromSeconds(1));
            }
        }

        Assert.InRange(limiter.TrackedAddresses, 1, 100);
    }

    [Fact]
    public void WhenFull_RefusedAddressesStayRefused_AndAddressesUnderTheLimitMakeRoom()
    {
        var limiter = NewLimiter(capacity: 10);
        var attacker = IPAddress.Parse("203.0.113.7");
        for (var i = 0; i < Limit; i++)
        {
            limiter.RecordFailure(attacker);
        }
        for (var i = 0; i < 9; i++)
        {
            limiter.RecordFailure(V6(i));
        }
        Assert.Equal(10, limiter.TrackedAddresses);

        var newcomer = V6(1000);
        for (var i = 0; i < Limit; i++)
        {
            limiter.RecordFailure(newcomer);
        }

        Assert.True(limiter.IsBlocked(attacker));
        Assert.True(limiter.IsBlocked(newcomer));
        Assert.InRange(limiter.TrackedAddresses, 2, 10);
    }

    [Fact]
    public void WhenFullOfRefusedAddresses_ANewOneWaitsForAWindowToEnd()
    {
        var limiter = NewLimiter(capacity: 2);
        foreach (var address in new[] { V6(1), V6(2) })
        {
            for (var i = 0; i < Limit; i++)
            {
                limiter.RecordFailure(address);
            }
        }

        for (var i = 0; i < Limit; i++)
        {
            limiter.RecordFailure(V6(3));
        }
        Assert.False(limiter.IsBlocked(V6(3)));
        Assert.Equal(2, limiter.TrackedAddresses);

        _time.Advance(TimeSpan.FromMinutes(1));
        for (var i = 0; i < Limit; i++)
        {
            limiter.RecordFailure(V6(3));
        }
        Assert.True(limiter.IsBlocked(V6(3)));
        Assert.False(limiter.IsBlocked(V6(1)));
    }

    private sealed class Fixed(SecurityOptions value) : IOptionsMonitor<SecurityOptions>
    {
        public SecurityOptions CurrentValue => value;
        public SecurityOptions Get(string? name) => value;
        public IDisposable? OnChange(Action<SecurityOptions, string?> listener) => null;
    }
}
