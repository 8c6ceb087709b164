using Microsoft.Extensions.Options;
using WxkfManager.Delivery;
using WxkfManager.Metrics;
using WxkfManager.Settings;
using WxkfManager.Registry;

namespace WxkfManager.Apis;

/// <summary>What the puppets' handlers (register, deregister, puppetWxkfInfo) work with. Their log lines are the ManagerApi's.</summary>
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
    ManagerMetrics Metrics,
    ILoggerFactory Loggers)
{
    public ILogger Logger { get; } = Loggers.CreateLogger(typeof(ManagerApi));
}
