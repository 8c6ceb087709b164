using Microsoft.Extensions.Options;
using WxkfManager.Options;

namespace WxkfManager.Registry;

/// <summary>Reloads the directory on an interval so replicas sharing one MongoDB converge.</summary>
public sealed class RegistryRefreshService(
    PuppetDirectory directory,
    IOptions<StorageOptions> options,
    ILogger<RegistryRefreshService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.RegistryRefreshInterval);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await directory.RefreshAsync(stoppingToken);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                logger.LogWarning(exception, "Reloading the registry failed; keeping the last snapshot");
            }
        }
    }
}
