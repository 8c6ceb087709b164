using System.Net;
using System.Text;
using Microsoft.Extensions.Options;
using WxkfManager.Settings;

namespace WxkfManager.Delivery;

public enum FailureKind
{
    /// <summary>The puppet answered, but not with success: this event failed, the puppet is there.</summary>
    Rejected,

    /// <summary>No answer, or an answer that says the puppet cannot take anything now (429, 502, 503, 504).</summary>
    Unreachable,
}

public sealed record DeliveryResult(bool Delivered, int? StatusCode, string? Error, FailureKind Kind = FailureKind.Rejected);

/// <summary>
/// Posts one callback to its puppet, once, within the attempt timeout. Whether and when to try again is
/// the queue's decision (<see cref="RetryPolicy"/>), so there are no retries here.
/// </summary>
public sealed class PuppetClient(HttpClient http, IOptions<DeliveryOptions> options)
{
    public async Task<DeliveryResult> DeliverAsync(PuppetDelivery delivery, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, delivery.TargetUri())
        {
            Content = new StringContent(delivery.Body, Encoding.UTF8, delivery.ContentType),
        };
        request.Headers.TryAddWithoutValidation("X-Wxkf-Delivery-Id", delivery.Id);
        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        attempt.CancelAfter(options.Value.AttemptTimeout);
        try
        {
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, attempt.Token);
            return Classify(response);
        }
        catch (HttpRequestException exception) when (exception.InnerException is Security.PuppetAddressRefusedException refused)
        {
            return new DeliveryResult(false, null, refused.Message);
        }
        catch (HttpRequestException exception)
        {
            return new DeliveryResult(false, null, $"connection failed: {exception.HttpRequestError}", FailureKind.Unreachable);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new DeliveryResult(false, null, $"no answer within {options.Value.AttemptTimeout.TotalSeconds:0.###} s", FailureKind.Unreachable);
        }
    }

    private static DeliveryResult Classify(HttpResponseMessage response)
    {
        var status = (int)response.StatusCode;
        if (response.IsSuccessStatusCode)
        {
            return new DeliveryResult(true, status, null);
        }
        if (status is >= 300 and < 400)
        {
            return new DeliveryResult(false, status, DescribeRedirect(response));
        }
        var unreachable = response.StatusCode is HttpStatusCode.TooManyRequests or HttpStatusCode.BadGateway
            or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout;
        return new DeliveryResult(false, status, $"puppet answered HTTP {status}", unreachable ? FailureKind.Unreachable : FailureKind.Rejected);
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
