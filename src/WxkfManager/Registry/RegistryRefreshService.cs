using Microsoft.Extensions.Options;
using WxkfManager.Options;

namespace WxkfManager.Registry;

/// <summary>
/// Prepares the store and loads the directory before the server listens, then reloads it on an
/// interval so replicas sharing one MongoDB converge.
/// </summary>
public sealed class RegistryRefreshService(
    IPuppetRegistry registry,
    PuppetDirectory directory,
    IOptions<StorageOptions> options,
    ILogger<RegistryRefreshService> logger) : BackgroundService
{
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await registry.InitializeAsync(cancellationToken);
        await directory.RefreshAsync(cancellationToken);
        logger.LogInformation("Registry loaded: {PuppetCount} puppets, reloading every {RefreshInterval}",
            directory.Count, options.Value.RegistryRefreshInterval);
        await base.StartAsync(cancellationToken);
    }

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
