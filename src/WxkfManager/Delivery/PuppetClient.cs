using System.Text;

namespace WxkfManager.Delivery;

public sealed record DeliveryResult(bool Delivered, int? StatusCode, string? Error);

/// <summary>Posts callbacks to puppets; retries and per-attempt timeouts come from the resilience handler.</summary>
public sealed class PuppetClient(HttpClient http)
{
    public async Task<DeliveryResult> DeliverAsync(PuppetDelivery delivery, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, delivery.TargetUri())
        {
            Content = new StringContent(delivery.Body, Encoding.UTF8, delivery.ContentType),
        };
        request.Headers.TryAddWithoutValidation("X-Wxkf-Delivery-Id", delivery.Id);
        try
        {
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            var status = (int)response.StatusCode;
            return response.IsSuccessStatusCode
                ? new DeliveryResult(true, status, null)
                : new DeliveryResult(false, status, $"puppet answered HTTP {status}");
        }
        catch (HttpRequestException exception)
        {
            return new DeliveryResult(false, null, $"connection failed: {exception.HttpRequestError}");
        }
        catch (Polly.Timeout.TimeoutRejectedException)
        {
            return new DeliveryResult(false, null, "timed out");
        }
    }
}
