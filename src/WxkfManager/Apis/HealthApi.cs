using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using WxkfManager.Settings;
using WxkfManager.Registry;
using WxkfManager.Storage;

namespace WxkfManager.Apis;

public static class HealthApi
{
    public sealed record HealthStatus(
        string Status,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Store = null,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? Puppets = null,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Reason = null,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? Warnings = null);

    public static IEndpointRouteBuilder MapHealthApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/health", () => TypedResults.Ok(new HealthStatus("alive"))).WithTags("Health").WithName("health")
            .WithSummary("The process is alive");
        app.MapGet("/ready", Ready).WithTags("Health").WithName("ready")
            .WithSummary("The store answers and the registry is loaded");
        return app;
    }

    public sealed record ReadyServices(
        IPuppetRegistry Registry, PuppetDirectory Directory, StoreStatus Status, IServiceProvider Services,
        IOptions<StorageOptions> Storage, IOptions<SecurityOptions> Security, ILoggerFactory Loggers)
    {
        public ILogger Logger { get; } = Loggers.CreateLogger(typeof(HealthApi));
    }

    public static async Task<Results<Ok<HealthStatus>, JsonHttpResult<HealthStatus>>> Ready(
        [AsParameters] ReadyServices services, CancellationToken cancellationToken)
    {
        var (registry, directory, status, storage, security, logger) =
            (services.Registry, services.Directory, services.Status, services.Storage, services.Security, services.Logger);
        var all = Security.SecurityWarnings.For(security.Value);
        IReadOnlyList<string>? warnings = all.Count == 0 ? null : all;
        var store = storage.Value.UsesMongo ? "mongodb" : "sqlite";
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(3));
        string? reason;
        try
        {
            reason = status.NotReadyReason;
            if (reason is null)
            {
                await registry.PingAsync(timeout.Token);
                // Reads can succeed on a store that cannot take a callback: a locked file, a full or read-only disk.
                reason = await services.Services.GetRequiredService<IStoreWriteCheck>().WhyNotWritableAsync(timeout.Token);
            }
        }
        catch (Exception exception) when (StoreFailure.IsStoreFailure(exception) || exception is OperationCanceledException)
        {
            reason = $"{store} store does not answer: {exception.GetType().Name}";
        }
        if (reason is null)
        {
            return TypedResults.Ok(new HealthStatus("ready", store, directory.Count, Warnings: warnings));
        }
        logger.LogWarning("Readiness check: not ready, {Reason}", reason);
        return TypedResults.Json(new HealthStatus("unavailable", store, Reason: reason, Warnings: warnings), statusCode: StatusCodes.Status503ServiceUnavailable);
    }
}
