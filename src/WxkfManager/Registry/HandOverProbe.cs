using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using WxkfManager.Settings;

namespace WxkfManager.Registry;

/// <summary>
/// Settles a deregister that the caller's address cannot: a moment after it, asks the newest endpoint
/// whether it is still there. Any HTTP answer keeps the puppet online; no answer takes it offline, unless
/// another instance registered meanwhile. One probe waits per puppet at a time, settling with the newest
/// registration its deregisters saw, so repeated deregisters cannot pile up waiting probes.
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

    // By kfId: the registration the waiting probe settles with. Bounded by the registered puppets.
    private readonly ConcurrentDictionary<string, PuppetRegistration> _waiting = new(StringComparer.Ordinal);

    /// <summary>Probes waiting for their delay (at most one per puppet).</summary>
    internal int Waiting => _waiting.Count;

    public void Schedule(PuppetRegistration seen)
    {
        var started = false;
        _waiting.AddOrUpdate(seen.KfId, _ => { started = true; return seen; }, (_, _) => seen);
        if (started)
        {
            _ = RunAsync(seen.KfId, lifetime.ApplicationStopping);
        }
    }

    private async Task RunAsync(string kfId, CancellationToken stopping)
    {
        try
        {
            await Task.Delay(options.Value.HandOverProbeDelay, time, stopping);
            // Taken now, so a deregister during the delay is settled by this probe, one after it by the next.
            if (!_waiting.TryRemove(kfId, out var seen))
            {
                return;
            }
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
            logger.LogWarning("Could not settle the deregister of {KfId} ({Error}); it stays online", kfId, exception.Message);
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
