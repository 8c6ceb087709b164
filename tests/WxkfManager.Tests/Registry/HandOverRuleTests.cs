using WxkfManager.Registry;

namespace WxkfManager.Tests.Registry;

/// <summary>Who a deregister takes offline, decided from the instances alone.</summary>
public sealed class HandOverRuleTests
{
    private static readonly DateTime At = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    private static PuppetRegistration Registered(params PuppetInstance[] instances) =>
        new("wk1", "n", instances.Length > 0 ? instances[^1].Endpoint : "http://a:1", "ww1", "s", "t", "k", Online: true, null, At)
        {
            Instances = instances,
        };

    private static PuppetInstance Instance(string address, string endpoint, int second = 0) => new(address, endpoint, At.AddSeconds(second));

    [Fact]
    public void FirstRegistration_IsTheOnlyInstance()
    {
        var instance = Instance("10.0.0.1", "http://a:1");

        Assert.Equal([instance], HandOver.AfterRegistration(null, instance));
    }

    [Fact]
    public void RegistrationAfterOffline_ForgetsTheOldInstances()
    {
        var offline = Registered(Instance("10.0.0.1", "http://a:1")) with { Online = false };
        var instance = Instance("10.0.0.2", "http://b:1", 5);

        Assert.Equal([instance], HandOver.AfterRegistration(offline, instance));
    }

    [Fact]
    public void SameAddressAndEndpointAgain_IsTheSameInstance_NowNewest()
    {
        var current = Registered(Instance("10.0.0.1", "http://a:1"), Instance("10.0.0.2", "http://b:1", 1));
        var again = Instance("10.0.0.1", "http://a:1/", 2);

        Assert.Equal([Instance("10.0.0.2", "http://b:1", 1), again], HandOver.AfterRegistration(current, again));
    }

    [Fact]
    public void Instances_AreBounded()
    {
        var current = Registered();
        for (var i = 0; i < 20; i++)
        {
            current = current with { Instances = HandOver.AfterRegistration(current, Instance($"10.0.0.{i}", "http://a:1", i)) };
        }

        Assert.Equal(HandOver.MaxInstances, current.Instances.Count);
        Assert.Equal("10.0.0.19", current.Newest!.Address);
    }

    [Theory]
    [InlineData("10.0.0.1", DeregisterAction.KeepOnline)]
    [InlineData("10.0.0.2", DeregisterAction.GoOffline)]
    [InlineData("10.0.0.9", DeregisterAction.KeepOnline)]
    public void Deregister_TakesOffline_OnlyFromTheNewestInstancesAddress(string caller, DeregisterAction expected)
    {
        var current = Registered(Instance("10.0.0.1", "http://a:1"), Instance("10.0.0.2", "http://b:1", 1));

        Assert.Equal(expected, HandOver.OnDeregister(current, "ww1", caller).Action);
    }

    [Fact]
    public void Deregister_FromTheNewestAddress_WithAnOlderEndpointThere_IsSettledByProbing()
    {
        var current = Registered(Instance("10.0.0.1", "http://a:1"), Instance("10.0.0.1", "http://a:2", 1));

        Assert.Equal(DeregisterAction.ProbeNewest, HandOver.OnDeregister(current, "ww1", "10.0.0.1").Action);
    }

    [Fact]
    public void Deregister_OfARegistrationWithoutInstances_GoesOffline()
    {
        Assert.Equal(DeregisterAction.GoOffline, HandOver.OnDeregister(Registered(), "ww1", "10.0.0.1").Action);
    }

    [Fact]
    public void Deregister_OfUnknownOrOfflineOrOtherCorp_DoesNothing()
    {
        var current = Registered(Instance("10.0.0.1", "http://a:1"));

        Assert.Equal(DeregisterAction.None, HandOver.OnDeregister(null, "ww1", "10.0.0.1").Action);
        Assert.Equal(DeregisterAction.None, HandOver.OnDeregister(current with { Online = false }, "ww1", "10.0.0.1").Action);
        Assert.Equal(DeregisterAction.None, HandOver.OnDeregister(current, "ww2", "10.0.0.1").Action);
    }
}
