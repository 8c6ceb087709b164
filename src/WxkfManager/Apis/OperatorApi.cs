using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using WxkfManager.Delivery;
using WxkfManager.Settings;
using WxkfManager.Registry;
using WxkfManager.Security;

namespace WxkfManager.Apis;

/// <summary>What operators need: queue depth, per-puppet delivery state, dead letters and their replay.</summary>
public static class OperatorApi
{
    public const string Prefix = "/operator";

    public sealed record QueueView(
        [property: JsonPropertyName("pending")] int Pending,
        [property: JsonPropertyName("inFlight")] int InFlight,
        [property: JsonPropertyName("deadLetters")] int DeadLetters,
        [property: JsonPropertyName("deliveredRetained")] int DeliveredRetained,
        [property: JsonPropertyName("oldestPendingAgeSeconds")] double? OldestPendingAgeSeconds);

    public sealed record PuppetDeliveryView(
        [property: JsonPropertyName("kfId")] string KfId,
        [property: JsonPropertyName("corpId")] string CorpId,
        [property: JsonPropertyName("endpoint")] string Endpoint,
        [property: JsonPropertyName("online")] bool Online,
        [property: JsonPropertyName("delivery")] PuppetDeliveryState Delivery);

    public sealed record DeadLetterView(
        [property: JsonPropertyName("id")] string Id,
        [property: JsonPropertyName("kind")] string Kind,
        [property: JsonPropertyName("corpId")] string CorpId,
        [property: JsonPropertyName("kfId")] string KfId,
        [property: JsonPropertyName("receivedAt")] DateTime ReceivedAt,
        [property: JsonPropertyName("deadAt")] DateTime? DeadAt,
        [property: JsonPropertyName("attempts")] int Attempts,
        [property: JsonPropertyName("reason")] string? Reason)
    {
        public static DeadLetterView From(DeliveryRecord record) => new(
            record.Id, record.Kind.ToString(), record.CorpId, record.KfId, record.ReceivedAt, record.CompletedAt, record.Attempts, record.LastError);
    }

    public sealed record UnloadableView(
        [property: JsonPropertyName("kfId")] string KfId,
        [property: JsonPropertyName("field")] string Field,
        [property: JsonPropertyName("reason")] string Reason);

    public sealed record RegistryView(
        [property: JsonPropertyName("loaded")] int Loaded,
        [property: JsonPropertyName("unloadable")] List<UnloadableView> Unloadable);

    public sealed record ReplayView(
        [property: JsonPropertyName("replayed")] int Replayed,
        [property: JsonPropertyName("skipped"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<SkippedReplay>? Skipped = null);

    /// <summary>A dead letter left where it is, and why: replaying it would only dead-letter it again.</summary>
    public sealed record SkippedReplay(
        [property: JsonPropertyName("id")] string Id,
        [property: JsonPropertyName("kfId")] string KfId,
        [property: JsonPropertyName("reason")] string Reason);

    /// <summary>Dead letters replay-all looks at in one call; more are left for the next call.</summary>
    private const int ReplayBatch = 10_000;

    public static RouteGroupBuilder MapOperatorApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapOperatorGroup();
        api.MapGet("/queue", GetQueue).WithName("queue").WithSummary("Delivery queue depth");
        api.MapGet("/puppets", GetPuppets).WithName("puppetDeliveries")
            .WithSummary("Per-puppet delivery state: last success, last error, consecutive failures, circuit");
        api.MapGet("/registry", GetRegistry).WithName("registry")
            .WithSummary("Registrations this replica loaded, and those it skipped: kfId and the field at fault, never its value");
        api.MapGet("/dead-letters", ListDeadLetters).WithName("deadLetters").WithSummary("Events given up on, newest first, with the reason");
        api.MapPost("/dead-letters/{id}/replay", ReplayOne).WithName("replayDeadLetter").WithSummary("Queue one dead letter again");
        api.MapPost("/dead-letters/replay", ReplayAll).WithName("replayAllDeadLetters").WithSummary("Queue every dead letter again");
        return api;
    }

    /// <summary>The operators' routes (this group, the puppet overrides and the console's additions): behind the operator key.</summary>
    public static RouteGroupBuilder MapOperatorGroup(this IEndpointRouteBuilder app) =>
        app.MapGroup(Prefix).WithTags("Operator")
            .RequireOperatorAccess()
            .RequireRateLimiting(SecurityServiceCollectionExtensions.ManagementRateLimit);

    public static async Task<Ok<QueueView>> GetQueue(IDeliveryStore store, TimeProvider time, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var stats = await store.GetStatsAsync(now, cancellationToken);
        // pending counts every event not yet delivered, the ones a worker holds (inFlight) included, so it is never
        // 0 while oldestPendingAgeSeconds (over the same events) has a value.
        return TypedResults.Ok(new QueueView(stats.Pending + stats.Leased, stats.Leased, stats.Dead, stats.Delivered,
            stats.OldestPendingReceivedAt is { } oldest ? Math.Round((now - oldest).TotalSeconds, 3) : null));
    }

    public sealed record PuppetDeliveryServices(IPuppetRegistry Registry, IDeliveryStore Store, DeliveryTracker Tracker);

    public static async Task<Ok<List<PuppetDeliveryView>>> GetPuppets([AsParameters] PuppetDeliveryServices services, CancellationToken cancellationToken)
    {
        var puppets = await services.Registry.ListAsync(cancellationToken);
        var waiting = await services.Store.CountPendingByPuppetAsync(cancellationToken);
        return TypedResults.Ok(puppets
            .Select(p => new PuppetDeliveryView(p.KfId, p.CorpId, p.Endpoint, p.Online, services.Tracker.For(p.KfId, waiting.GetValueOrDefault(p.KfId))))
            .ToList());
    }

    public static Ok<RegistryView> GetRegistry(PuppetDirectory directory) =>
        TypedResults.Ok(new RegistryView(directory.Count,
            directory.Unloadable.Select(u => new UnloadableView(u.KfId, u.Field, u.Reason)).ToList()));

    public static async Task<Results<Ok<List<DeadLetterView>>, ProblemHttpResult>> ListDeadLetters(
        IDeliveryStore store, int? limit, CancellationToken cancellationToken)
    {
        if (limit is < 1 or > 1000)
        {
            return TypedResults.Problem(detail: "limit must be from 1 to 1000", statusCode: StatusCodes.Status400BadRequest);
        }
        var dead = await store.ListDeadLettersAsync(limit ?? 100, cancellationToken);
        return TypedResults.Ok(dead.Select(DeadLetterView.From).ToList());
    }

    public static async Task<Results<Ok<ReplayView>, ProblemHttpResult>> ReplayOne(
        string id, [AsParameters] ReplayServices services, CancellationToken cancellationToken)
    {
        var record = await services.Store.FindAsync(id, cancellationToken);
        if (record is not { State: DeliveryState.Dead })
        {
            return TypedResults.Problem(detail: $"no dead letter {id}", statusCode: StatusCodes.Status404NotFound);
        }
        if (await WhyNotReplayableAsync(record, services.Directory, cancellationToken) is { } reason)
        {
            services.Logger.LogWarning("Dead letter {DeliveryId} for {KfId} not replayed: {Reason}", id, record.KfId, reason);
            return TypedResults.Problem(detail: $"dead letter {id} not replayed: {reason}", statusCode: StatusCodes.Status409Conflict);
        }
        var now = services.Time.GetUtcNow().UtcDateTime;
        if (!await services.Store.ReplayAsync(id, now, now + services.Options.Value.MaxAge, cancellationToken))
        {
            return TypedResults.Problem(detail: $"no dead letter {id}", statusCode: StatusCodes.Status404NotFound);
        }
        // An operator's replay is a fresh start for the puppet: no waiting out an earlier outage's probe interval.
        services.Tracker.Reset(record.KfId);
        services.Signal.Notify();
        services.Logger.LogInformation("Dead letter {DeliveryId} replayed", id);
        return TypedResults.Ok(new ReplayView(1));
    }

    public static async Task<Ok<ReplayView>> ReplayAll([AsParameters] ReplayServices services, CancellationToken cancellationToken)
    {
        var now = services.Time.GetUtcNow().UtcDateTime;
        var replayed = 0;
        var skipped = new List<SkippedReplay>();
        foreach (var record in await services.Store.ListDeadLettersAsync(ReplayBatch, cancellationToken))
        {
            if (await WhyNotReplayableAsync(record, services.Directory, cancellationToken) is { } reason)
            {
                skipped.Add(new SkippedReplay(record.Id, record.KfId, reason));
            }
            else if (await services.Store.ReplayAsync(record.Id, now, now + services.Options.Value.MaxAge, cancellationToken))
            {
                services.Tracker.Reset(record.KfId);
                replayed++;
            }
        }
        services.Signal.Notify();
        services.Logger.LogInformation("{Replayed} dead letters replayed, {Skipped} left because their puppet is not registered and online", replayed, skipped.Count);
        return TypedResults.Ok(new ReplayView(replayed, skipped));
    }

    public sealed record ReplayServices(
        IDeliveryStore Store, PuppetDirectory Directory, DeliverySignal Signal, DeliveryTracker Tracker, TimeProvider Time,
        IOptions<DeliveryOptions> Options, ILoggerFactory Loggers)
    {
        public ILogger Logger { get; } = Loggers.CreateLogger(typeof(OperatorApi));
    }

    /// <summary>The worker dead-letters an event for a puppet that is gone at once, so replaying one only makes sense once it is back.</summary>
    private static async Task<string?> WhyNotReplayableAsync(DeliveryRecord record, PuppetDirectory directory, CancellationToken cancellationToken)
    {
        var puppet = await directory.FindInCorpAsync(record.CorpId, record.KfId, cancellationToken);
        return puppet is null ? $"puppet {record.KfId} is not registered in corp {record.CorpId}"
            : !puppet.Online ? $"puppet {record.KfId} is deregistered; it must register again first"
            : null;
    }
}
