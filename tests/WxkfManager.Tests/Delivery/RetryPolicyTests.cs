using WxkfManager.Delivery;
using WxkfManager.Settings;

namespace WxkfManager.Tests.Delivery;

/// <summary>What follows a failed attempt, decided from the record, the failure, the puppet's health and the time alone.</summary>
public sealed class RetryPolicyTests
{
    private static readonly DateTime T0 = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
    private static readonly DeliveryOptions Options = new();

    private static DeliveryRecord Record(DateTime? expiresAt = null) => new(
        "d1", CallbackKind.Encrypted, "ww1", "wk1", "<xml/>", null, null, "wk1|t", DeliveryState.Pending, 0,
        T0, T0, expiresAt ?? T0 + Options.MaxAge, "w", T0.AddMinutes(1), null, null);

    private static readonly DeliveryResult Refused = new(false, null, "connection failed: ConnectionError", FailureKind.Unreachable);
    private static readonly DeliveryResult Rejected = new(false, 400, "puppet answered HTTP 400");

    [Theory]
    [InlineData(0, 1.0)]
    [InlineData(3, 1.0)]
    [InlineData(8, 2.0)]
    [InlineData(12, 3.0)]
    [InlineData(30, 4.0)]
    [InlineData(3600, 4.0)]
    public void ProbeInterval_IsAQuarterOfTheOutage_BetweenTheFirstIntervalAndTheCap(int outageSeconds, double expectedSeconds)
    {
        Assert.Equal(TimeSpan.FromSeconds(expectedSeconds),
            PuppetHealth.ProbeInterval(TimeSpan.FromSeconds(outageSeconds), Options.ProbeFirstInterval, Options.ProbeMaxInterval));
    }

    [Fact]
    public void UnreachablePuppet_EventWaitsForTheNextProbe()
    {
        var health = PuppetHealth.Unknown.Unreachable(T0.AddSeconds(10), Refused.Error!, Options.ProbeFirstInterval, Options.ProbeMaxInterval);

        var step = RetryPolicy.AfterFailure(Record(), 1, Refused, health, T0.AddSeconds(10), Options, 0.5);

        Assert.Equal(new NextStep.RetryAt(T0.AddSeconds(11)), step);
    }

    [Fact]
    public void UnreachablePuppet_TheProbeIntervalGrowsWithTheOutage()
    {
        var health = PuppetHealth.Unknown;
        foreach (var second in new[] { 0, 1, 2, 3, 4, 5, 7, 9, 12, 15, 19, 23, 27, 31 })
        {
            health = health.Unreachable(T0.AddSeconds(second), "down", Options.ProbeFirstInterval, Options.ProbeMaxInterval);
        }

        Assert.Equal(T0, health.UnreachableSince);
        Assert.Equal(T0.AddSeconds(35), health.NextProbeAt);
        Assert.Equal(14, health.ConsecutiveFailures);
    }

    [Fact]
    public void RejectedEvent_BacksOffOnItsOwn_AndThePuppetStaysReachable()
    {
        var health = PuppetHealth.Unknown.Rejected(T0, Rejected.Error!);

        var first = RetryPolicy.AfterFailure(Record(), 1, Rejected, health, T0, Options, 0.5);
        var third = RetryPolicy.AfterFailure(Record(), 3, Rejected, health, T0, Options, 0.5);

        Assert.False(health.IsUnreachable);
        Assert.Equal(new NextStep.RetryAt(T0 + Options.RetryBaseDelay), first);
        Assert.Equal(new NextStep.RetryAt(T0 + 4 * Options.RetryBaseDelay), third);
    }

    [Fact]
    public void NextAttemptPastTheAgeLimit_GivesUp_WithTheLastError()
    {
        var now = T0.AddSeconds(59.2);
        var health = PuppetHealth.Unknown.Unreachable(now, Refused.Error!, Options.ProbeFirstInterval, Options.ProbeMaxInterval);

        var step = RetryPolicy.AfterFailure(Record(expiresAt: T0.AddMinutes(1)), 7, Refused, health, now, Options, 0.5);

        var giveUp = Assert.IsType<NextStep.GiveUp>(step);
        Assert.Equal("gave up after 7 attempts over 59 s: connection failed: ConnectionError", giveUp.Reason);
    }

    [Fact]
    public void Success_AfterAnOutage_ClearsIt()
    {
        var health = PuppetHealth.Unknown.Unreachable(T0, "down", Options.ProbeFirstInterval, Options.ProbeMaxInterval);

        var after = health.Succeeded(T0.AddSeconds(3));

        Assert.False(after.IsUnreachable);
        Assert.Null(after.NextProbeAt);
        Assert.Equal(0, after.ConsecutiveFailures);
        Assert.Equal(T0.AddSeconds(3), after.LastSuccessAt);
    }
}
