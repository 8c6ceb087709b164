using Microsoft.Extensions.Options;
using WxkfManager.Options;

namespace WxkfManager.Registry;

/// <summary>
/// Settles a deregister that the caller's address cannot: a moment after it, asks the newest endpoint
/// whether it is still there. Any HTTP answer keeps the puppet online; no answer takes it offline, unless
/// another instance registered meanwhile.
/// </summary>
public sealed class HandOverProbe(
    IHttpClientFactory clients,
    IPuppetRegistry registry,
    PuppetDirectory directory,
    TimeProvider time,
    IOptions<RegistrationOptions> options,
    IHostApplicationLifetime lifetime,
    ILogger<HandOverProbe> logger)
{
    public const string ClientName = "hand-over-probe";

    public void Schedule(PuppetRegistration seen) => _ = RunAsync(seen, lifetime.ApplicationStopping);

    private async Task RunAsync(PuppetRegistration seen, CancellationToken stopping)
    {
        try
        {
            await Task.Delay(options.Value.HandOverProbeDelay, time, stopping);
            if (await AnswersAsync(seen.Endpoint, stopping))
            {
                logger.LogInformation("Puppet {KfId} stays online: its newest endpoint {Endpoint} still answers after the deregister",
                    seen.KfId, seen.Endpoint);
                return;
            }
            var offline = await registry.MarkOfflineIfLatestAsync(seen, time.GetUtcNow().UtcDateTime, stopping);
            if (offline is null)
            {
                logger.LogInformation("Puppet {KfId} registered again meanwhile; it stays online", seen.KfId);
                return;
            }
            await directory.ApplyAsync(offline, stopping);
            logger.LogInformation("Puppet {KfId} of {CorpId} deregistered: its endpoint {Endpoint} no longer answers",
                seen.KfId, seen.CorpId, seen.Endpoint);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
        catch (Exception exception)
        {
            // Prefer delivering over losing: the puppet stays online, and its events retry or dead-letter as usual.
            logger.LogWarning("Could not settle the deregister of {KfId} ({Error}); it stays online", seen.KfId, exception.Message);
        }
    }

    private async Task<bool> AnswersAsync(string endpoint, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.Value.HandOverProbeTimeout);
        try
        {
            using var response = await clients.CreateClient(ClientName)
                .GetAsync(endpoint, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            return true;
        }
        catch (HttpRequestException)
        {
            return false;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }
}
