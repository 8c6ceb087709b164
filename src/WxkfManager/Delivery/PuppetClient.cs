using System.Text;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace WxkfManager.Delivery;

public sealed record DeliveryResult(bool Delivered, int? StatusCode, string? Error, bool CircuitOpen = false);

/// <summary>Posts callbacks to puppets; retries, timeouts and the per-endpoint circuit breaker come from the resilience handler.</summary>
public sealed class PuppetClient(HttpClient http)
{
    /// <summary>The puppet endpoint a request is for: the key of its resilience pipeline, so each puppet has its own circuit.</summary>
    public static readonly HttpRequestOptionsKey<string> EndpointKey = new("wxkf.puppet-endpoint");

    public static string EndpointOf(HttpRequestMessage request) =>
        request.Options.TryGetValue(EndpointKey, out var endpoint) ? endpoint : request.RequestUri?.Authority ?? "";

    public async Task<DeliveryResult> DeliverAsync(PuppetDelivery delivery, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, delivery.TargetUri())
        {
            Content = new StringContent(delivery.Body, Encoding.UTF8, delivery.ContentType),
        };
        request.Headers.TryAddWithoutValidation("X-Wxkf-Delivery-Id", delivery.Id);
        request.Options.Set(EndpointKey, DeliveryTracker.NormalizeEndpoint(delivery.Endpoint));
        try
        {
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            var status = (int)response.StatusCode;
            return response.IsSuccessStatusCode ? new DeliveryResult(true, status, null)
                : status is >= 300 and < 400 ? new DeliveryResult(false, status, DescribeRedirect(response))
                : new DeliveryResult(false, status, $"puppet answered HTTP {status}");
        }
        catch (HttpRequestException exception) when (exception.InnerException is Security.PuppetAddressRefusedException refused)
        {
            return new DeliveryResult(false, null, refused.Message);
        }
        catch (HttpRequestException exception)
        {
            return new DeliveryResult(false, null, $"connection failed: {exception.HttpRequestError}");
        }
        catch (TimeoutRejectedException)
        {
            return new DeliveryResult(false, null, "timed out");
        }
        catch (BrokenCircuitException)
        {
            return new DeliveryResult(false, null, "circuit open: the puppet's endpoint keeps failing", CircuitOpen: true);
        }
    }

    /// <summary>Names where the puppet tried to send us (scheme, host and port only: the rest is the puppet's to choose).</summary>
    private static string DescribeRedirect(HttpResponseMessage response)
    {
        var target = response.Headers.Location is { IsAbsoluteUri: true } location
            ? $" to {location.GetComponents(UriComponents.SchemeAndServer, UriFormat.UriEscaped)}"
            : "";
        return $"puppet answered HTTP {(int)response.StatusCode}, a redirect{target}: redirects are not followed";
    }
}
