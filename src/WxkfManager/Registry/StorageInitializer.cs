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
        // One document that cannot be loaded is skipped and listed (/operator/registry), never a failed start.
        await directory.RefreshAsync(cancellationToken);
        if (options.Value.UsesMongo)
        {
            var url = MongoDB.Driver.MongoUrl.Create(options.Value.MongoUri);
            logger.LogInformation("MongoDB database {MongoDatabase}{DatabaseNote}", MongoConnection.DatabaseNameFor(url),
                string.IsNullOrEmpty(url.DatabaseName) ? " (MONGO_URI names none: the original service's default)" : "");
        }
        logger.LogInformation("Store {Store} ready: {PuppetCount} puppets registered, {UnloadableCount} skipped; changes read every {ChangePollInterval}, everything every {RefreshInterval}",
            options.Value.UsesMongo ? "mongodb" : "sqlite", directory.Count, directory.Unloadable.Count,
            options.Value.RegistryChangePollInterval, options.Value.RegistryRefreshInterval);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
