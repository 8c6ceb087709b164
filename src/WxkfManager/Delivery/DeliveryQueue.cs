using System.Threading.Channels;
using Microsoft.Extensions.Options;
using WxkfManager.Options;

namespace WxkfManager.Delivery;

/// <summary>
/// Hands verified callbacks from the request path to the delivery worker, so WeCom's answer never
/// waits for a puppet. Bounded: when full the caller learns it at once and WeCom is told to resend.
/// </summary>
public sealed class DeliveryQueue(IOptions<DeliveryOptions> options)
{
    private readonly Channel<PuppetDelivery> _channel = Channel.CreateBounded<PuppetDelivery>(
        new BoundedChannelOptions(options.Value.QueueCapacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = false,
            SingleWriter = false,
        });

    public int Count => _channel.Reader.Count;

    public bool TryEnqueue(PuppetDelivery delivery) => _channel.Writer.TryWrite(delivery);

    internal ChannelReader<PuppetDelivery> Reader => _channel.Reader;

    internal void Complete() => _channel.Writer.TryComplete();
}
