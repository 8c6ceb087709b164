using Microsoft.Extensions.Options;
using WxkfManager.Delivery;
using WxkfManager.Options;
using WxkfManager.Registry;

namespace WxkfManager.Apis;

/// <summary>What register and deregister work with.</summary>
public sealed record PuppetServices(
    IPuppetRegistry Registry,
    PuppetDirectory Directory,
    IDeliveryStore Queue,
    DeliverySignal Signal,
    DeliveryTracker Tracker,
    HandOverProbe Probe,
    TimeProvider Time,
    IOptions<DeliveryOptions> Delivery,
    IOptions<RegistrationOptions> Registration,
    IOptionsMonitor<SecurityOptions> Security,
    ILogger<PuppetServices> Logger);
