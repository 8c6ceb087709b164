using Microsoft.Extensions.Options;
using WxkfManager.Delivery;
using WxkfManager.Options;
using WxkfManager.Registry;

namespace WxkfManager.Apis;

/// <summary>What register and deregister work with.</summary>
public sealed class PuppetServices(
    IPuppetRegistry registry,
    PuppetDirectory directory,
    IDeliveryStore queue,
    DeliverySignal signal,
    DeliveryTracker tracker,
    HandOverProbe probe,
    TimeProvider time,
    IOptions<DeliveryOptions> delivery,
    IOptions<RegistrationOptions> registration,
    IOptionsMonitor<SecurityOptions> security,
    ILogger<PuppetServices> logger)
{
    public IPuppetRegistry Registry { get; } = registry;
    public PuppetDirectory Directory { get; } = directory;
    public IDeliveryStore Queue { get; } = queue;
    public DeliverySignal Signal { get; } = signal;
    public DeliveryTracker Tracker { get; } = tracker;
    public HandOverProbe Probe { get; } = probe;
    public TimeProvider Time { get; } = time;
    public IOptions<DeliveryOptions> Delivery { get; } = delivery;
    public IOptions<RegistrationOptions> Registration { get; } = registration;
    public IOptionsMonitor<SecurityOptions> Security { get; } = security;
    public ILogger<PuppetServices> Logger { get; } = logger;
}
