using Microsoft.Extensions.Options;
using WxkfManager.Delivery;
using WxkfManager.Options;

namespace WxkfManager.Registry;

/// <summary>Creates the schema or indexes and loads the directory before anything else starts, so the first callback finds its puppet.</summary>
public sealed class StorageInitializer(
    IPuppetRegistry registry,
    IDeliveryStore deliveries,
    Tokens.ITokenStore tokens,
    PuppetDirectory directory,
    IOptions<StorageOptions> options,
    ILogger<StorageInitializer> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await registry.InitializeAsync(cancellationToken);
        await deliveries.InitializeAsync(cancellationToken);
        await tokens.InitializeAsync(cancellationToken);
        await directory.RefreshAsync(cancellationToken);
        logger.LogInformation("Store {Store} ready: {PuppetCount} puppets registered, registry reloaded every {RefreshInterval}",
            options.Value.UsesMongo ? "mongodb" : "sqlite", directory.Count, options.Value.RegistryRefreshInterval);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
