using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using WxkfManager.Options;
using WxkfManager.Registry;

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

    public static async Task<Results<Ok<HealthStatus>, JsonHttpResult<HealthStatus>>> Ready(
        IPuppetRegistry registry, PuppetDirectory directory, IOptions<StorageOptions> storage, IOptions<SecurityOptions> security,
        ILogger<HealthStatus> logger, CancellationToken cancellationToken)
    {
        var all = Security.SecurityWarnings.For(security.Value);
        IReadOnlyList<string>? warnings = all.Count == 0 ? null : all;
        var store = storage.Value.UsesMongo ? "mongodb" : "sqlite";
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(3));
        try
        {
            await registry.PingAsync(timeout.Token);
            return TypedResults.Ok(new HealthStatus("ready", store, directory.Count, Warnings: warnings));
        }
        catch (Exception exception) when (StoreFailure.IsStoreFailure(exception) || exception is OperationCanceledException)
        {
            logger.LogWarning(exception, "Readiness check: the {Store} store does not answer", store);
            return TypedResults.Json(new HealthStatus("unavailable", store, Reason: "store does not answer", Warnings: warnings), statusCode: StatusCodes.Status503ServiceUnavailable);
        }
    }
}
