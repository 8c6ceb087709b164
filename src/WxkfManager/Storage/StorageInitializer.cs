using Microsoft.Extensions.Options;
using WxkfManager.Delivery;
using WxkfManager.Settings;
using WxkfManager.Storage.Mongo;
using WxkfManager.Registry;

namespace WxkfManager.Storage;

/// <summary>
/// Creates the schema or indexes and loads the directory before anything else starts, so the first callback
/// finds its puppet. SQLite is a local file: a failure there stops start-up. MongoDB is a server that may be
/// down or still starting: the service then starts anyway (so /health answers and /ready says why it is not
/// ready) and retries with backoff, logging each try, until the server answers.
/// </summary>
// The host may call StopAsync after disposing its services (seen under WebApplicationFactory), and StopAsync
// cancels _stopping; a CancellationTokenSource without a timer holds nothing that needs disposing.
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "StopAsync may follow Dispose; see above.")]
public sealed class StorageInitializer(
    IPuppetRegistry registry,
    IDeliveryStore deliveries,
    Tokens.ITokenStore tokens,
    PuppetDirectory directory,
    StoreStatus status,
    TimeProvider time,
    IOptions<StorageOptions> options,
    ILogger<StorageInitializer> logger) : IHostedService
{
    private static readonly TimeSpan FirstRetryDelay = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(30);

    private readonly CancellationTokenSource _stopping = new();
    private Task _retries = Task.CompletedTask;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!options.Value.UsesMongo)
        {
            await InitializeAsync(cancellationToken);
            return;
        }
        status.MarkNotReady($"MongoDB ({Servers()}) not connected yet");
        // One try before the port opens (at most the 2 s server selection), so a healthy server is ready from the
        // first request; after that, tries go on in the background while /health and /ready answer.
        if (await TryInitializeAsync(attempt: 1, FirstRetryDelay, cancellationToken))
        {
            return;
        }
        _retries = Task.Run(() => InitializeWithRetriesAsync(_stopping.Token), CancellationToken.None);
    }

    private async Task InitializeAsync(CancellationToken cancellationToken)
    {
        await registry.InitializeAsync(cancellationToken);
        await deliveries.InitializeAsync(cancellationToken);
        await tokens.InitializeAsync(cancellationToken);
        // One document that cannot be loaded is skipped and listed (/operator/registry), never a failed start.
        await directory.RefreshAsync(cancellationToken);
        status.MarkReady();
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

    private async Task InitializeWithRetriesAsync(CancellationToken stoppingToken)
    {
        var delay = FirstRetryDelay;
        for (var attempt = 2; !stoppingToken.IsCancellationRequested; attempt++)
        {
            try
            {
                await Task.Delay(delay, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxRetryDelay.Ticks));
            if (await TryInitializeAsync(attempt, delay, stoppingToken))
            {
                return;
            }
        }
    }

    private async Task<bool> TryInitializeAsync(int attempt, TimeSpan nextDelay, CancellationToken cancellationToken)
    {
        try
        {
            await InitializeAsync(cancellationToken);
            return true;
        }
        catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
        {
            var reason = $"MongoDB ({Servers()}) does not answer: {Innermost(exception).Message}";
            status.MarkNotReady(reason);
            logger.LogWarning("MongoDB store not ready (attempt {Attempt}): {Reason}; retrying in {RetryDelay}", attempt, reason, nextDelay);
            return false;
        }
    }

    // The driver's timeout describes the whole cluster state over many lines; the innermost error says what happened
    // (Connection refused, name not resolved, authentication failed).
    private static Exception Innermost(Exception exception) =>
        exception.InnerException is { } inner ? Innermost(inner)
        : exception is TimeoutException && exception.Message.Contains("SocketException", StringComparison.Ordinal) ? SocketError(exception)
        : exception;

    private static IOException SocketError(Exception timeout)
    {
        var match = System.Text.RegularExpressions.Regex.Match(timeout.Message, @"SocketException \(\d+\): (?<message>[^\r\n]+)");
        return new IOException(match.Success ? match.Groups["message"].Value + " (no server selected in time)" : "timed out selecting a server");
    }

    private string Servers() => string.Join(",", MongoDB.Driver.MongoUrl.Create(options.Value.MongoUri!).Servers);

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        try
        {
            await _retries.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // Stopped while MongoDB was still out of reach: nothing was initialised, nothing to undo.
        }
    }
}
