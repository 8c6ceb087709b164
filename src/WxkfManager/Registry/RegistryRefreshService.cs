using Microsoft.Extensions.Options;
using WxkfManager.Settings;

namespace WxkfManager.Registry;

/// <summary>
/// Keeps replicas sharing one store in step: every <see cref="StorageOptions.RegistryChangePollInterval"/>
/// it applies what changed since its last look (an indexed read), and every
/// <see cref="StorageOptions.RegistryRefreshInterval"/> it reloads everything, which also picks up
/// documents written without a change marker (by the original service) or deleted by hand.
/// </summary>
public sealed class RegistryRefreshService(
    PuppetDirectory directory,
    TimeProvider time,
    IOptions<StorageOptions> options,
    ILogger<RegistryRefreshService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        using var timer = new PeriodicTimer(settings.RegistryChangePollInterval, time);
        var lastFull = time.GetTimestamp();
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            var full = time.GetElapsedTime(lastFull) >= settings.RegistryRefreshInterval;
            try
            {
                if (full)
                {
                    await directory.RefreshAsync(stoppingToken);
                    lastFull = time.GetTimestamp();
                }
                else
                {
                    await directory.CatchUpAsync(stoppingToken);
                }
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                logger.LogWarning(exception, "Reading registry changes failed; keeping what this replica has");
            }
        }
    }
}
