using Microsoft.AspNetCore.Http.HttpResults;
using WxkfManager.Apis;
using WxkfManager.Delivery;
using WxkfManager.Registry;
using WxkfManager.Security;
using WxkfManager.Tokens;

namespace WxkfManager.OperatorConsole;

/// <summary>
/// The JSON behind the console pages. Mapped twice: under /console/api for the signed-in browser, and the
/// parts /operator lacked (fleet, live, tokens, test events) under /operator for scripts holding the key.
/// </summary>
public static class ConsoleApi
{
    public const string Prefix = ConsoleEndpoints.Prefix + "/api";

    public static RouteGroupBuilder MapConsoleApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup(Prefix).WithTags("Console")
            .RequireConsoleSession()
            .RequireRateLimiting(SecurityServiceCollectionExtensions.ManagementRateLimit)
            .ExcludeFromDescription();
        api.MapGet("/session", GetSession);
        api.MapGet("/fleet", GetFleet);
        api.MapGet("/queue", GetQueue);
        api.MapGet("/dead-letters", OperatorApi.ListDeadLetters);
        api.MapPost("/dead-letters/{id}/replay", OperatorApi.ReplayOne);
        api.MapPost("/dead-letters/replay", OperatorApi.ReplayAll);
        api.MapGet("/live", GetLive);
        api.MapGet("/tokens", GetTokens);
        api.MapPost("/puppets/{kfId}/test-event", SendTestEvent);
        return api;
    }

    /// <summary>The console's additions to /operator, behind the same key as the rest of it.</summary>
    public static RouteGroupBuilder MapOperatorConsoleApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapOperatorGroup();
        api.MapGet("/fleet", GetFleet).WithName("fleet")
            .WithSummary("Every puppet with its reachability and since when, circuit, last success and error, and queued events; filter by corp, kfId or state");
        api.MapGet("/queue/overview", GetQueue).WithName("queueOverview").WithSummary("Queued, due, in flight, dead letters, age of the oldest");
        api.MapGet("/live", GetLive).WithName("live")
            .WithSummary("Callbacks/s, deliveries/s, ack latency and refused callbacks by reason over the last minutes, one point per interval");
        api.MapGet("/tokens", GetTokens).WithName("tokens").WithSummary("Which corps have a cached access token and when it expires (never the token)");
        api.MapPost("/puppets/{kfId}/test-event", SendTestEvent).WithName("testEvent")
            .WithSummary("Send the puppet a simulated kf_msg_or_event, signed with its own credentials, through the callback intake; answers the delivery outcome");
        return api;
    }

    public static Ok<SessionView> GetSession(OperatorKey key) => TypedResults.Ok(new SessionView(
        key.IsConfigured,
        key.IsConfigured ? null : "No operator key is configured (MANAGER_OPERATOR_KEY): this console and /operator are open to anyone who can reach them."));

    public static async Task<Results<Ok<List<FleetPuppetView>>, ProblemHttpResult>> GetFleet(
        string? corp, string? kfId, string? state, [AsParameters] FleetServices services, CancellationToken cancellationToken)
    {
        var (registry, tracker, queue, time) = (services.Registry, services.Tracker, services.Queue, services.Time);
        if (state is not null && !FleetStates.All.Contains(state))
        {
            return TypedResults.Problem(detail: $"state must be one of: {string.Join(", ", FleetStates.All)}", statusCode: StatusCodes.Status400BadRequest);
        }
        var puppets = await registry.ListAsync(cancellationToken);
        var queued = await queue.ByKfIdAsync(time.GetUtcNow().UtcDateTime, cancellationToken);
        var fleet = puppets
            .Where(p => string.IsNullOrEmpty(corp) || p.CorpId.Contains(corp, StringComparison.OrdinalIgnoreCase))
            .Where(p => string.IsNullOrEmpty(kfId) || p.KfId.Contains(kfId, StringComparison.OrdinalIgnoreCase))
            .Select(p => ToView(p, tracker, queued.GetValueOrDefault(p.KfId) ?? QueuedCounts.None))
            .Where(p => state is null || p.State == state)
            .OrderBy(p => p.CorpId, StringComparer.Ordinal).ThenBy(p => p.KfId, StringComparer.Ordinal)
            .ToList();
        return TypedResults.Ok(fleet);
    }

    /// <summary>What the fleet view reads: the registrations, each puppet's delivery health and its queued events.</summary>
    public sealed record FleetServices(IPuppetRegistry Registry, DeliveryTracker Tracker, IQueueBreakdown Queue, TimeProvider Time);

    public static FleetPuppetView ToView(PuppetRegistration puppet, DeliveryTracker tracker, QueuedCounts queued)
    {
        var health = tracker.HealthOf(puppet.KfId);
        var delivery = PuppetDeliveryState.From(health, queued.Queued);
        var (state, since) = !puppet.Online ? (FleetStates.Offline, puppet.LastOnlineDate)
            : health.FailingSince is { } failingSince ? (FleetStates.Unreachable, failingSince)
            : (FleetStates.Online, Later(health.RecoveredAt, puppet.RegisteredAt));
        return new FleetPuppetView(
            puppet.KfId, puppet.KfName, puppet.CorpId, puppet.Endpoint, state, since, delivery.Circuit,
            delivery.LastSuccessAt, delivery.LastErrorAt, delivery.LastError, delivery.ConsecutiveFailures,
            queued.Queued, queued.Due, queued.InFlight);
    }

    private static DateTime? Later(DateTime? a, DateTime? b) => a is null ? b : b is null ? a : a > b ? a : b;

    public sealed record QueueServices(IDeliveryStore Store, IQueueBreakdown Queue, TimeProvider Time);

    public sealed record TokenServices(IPuppetRegistry Registry, AccessTokenService Tokens, TimeProvider Time);

    public static async Task<Ok<QueueOverview>> GetQueue([AsParameters] QueueServices services, CancellationToken cancellationToken)
    {
        var now = services.Time.GetUtcNow().UtcDateTime;
        var stats = await services.Store.GetStatsAsync(now, cancellationToken);
        var byPuppet = await services.Queue.ByKfIdAsync(now, cancellationToken);
        return TypedResults.Ok(new QueueOverview(
            stats.Pending + stats.Leased,
            byPuppet.Values.Sum(c => c.Due),
            stats.Leased,
            stats.Dead,
            stats.Delivered,
            stats.OldestPendingReceivedAt is { } oldest ? Math.Round((now - oldest).TotalSeconds, 3) : null));
    }

    public static Ok<LiveView> GetLive(LiveSamples samples, Microsoft.Extensions.Options.IOptions<ConsoleOptions> options) =>
        TypedResults.Ok(new LiveView(options.Value.LiveSampleInterval.TotalSeconds, samples.Points()));

    public static async Task<Ok<List<CorpTokenView>>> GetTokens([AsParameters] TokenServices services, CancellationToken cancellationToken)
    {
        var now = services.Time.GetUtcNow().UtcDateTime;
        var puppetsByCorp = (await services.Registry.ListAsync(cancellationToken)).CountBy(p => p.CorpId).ToDictionary(StringComparer.Ordinal);
        var cached = services.Tokens.CachedTokens().Where(t => t.ExpiresAt > now).ToLookup(t => t.CorpId, StringComparer.Ordinal);
        var corps = puppetsByCorp.Keys.Union(cached.Select(g => g.Key), StringComparer.Ordinal).Order(StringComparer.Ordinal);
        return TypedResults.Ok(corps.Select(corpId =>
        {
            var corpTokens = cached[corpId].ToList();
            // With several apps (secrets) in a corp, the one expiring first is the one to watch.
            var first = corpTokens.MinBy(t => t.ExpiresAt);
            return new CorpTokenView(
                corpId, puppetsByCorp.GetValueOrDefault(corpId), first is not null, corpTokens.Count,
                first?.FetchedAt, first?.ExpiresAt, first is null ? null : Math.Round((first.ExpiresAt - now).TotalSeconds));
        }).ToList());
    }

    public static async Task<Results<Ok<TestEventOutcome>, ProblemHttpResult>> SendTestEvent(
        string kfId, double? waitSeconds, TestEventSimulator simulator, CancellationToken cancellationToken)
    {
        if (waitSeconds is < 0 || waitSeconds > TestEventSimulator.MaxWait.TotalSeconds)
        {
            return TypedResults.Problem(detail: $"waitSeconds must be from 0 to {TestEventSimulator.MaxWait.TotalSeconds:F0}", statusCode: StatusCodes.Status400BadRequest);
        }
        if (await simulator.FindAsync(kfId, cancellationToken) is not { } puppet)
        {
            return TypedResults.Problem(detail: $"no puppet {kfId} is registered", statusCode: StatusCodes.Status404NotFound);
        }
        if (!puppet.Registration.Online)
        {
            return TypedResults.Problem(detail: $"puppet {kfId} is deregistered: a test event would only be dead-lettered", statusCode: StatusCodes.Status409Conflict);
        }
        var outcome = await simulator.SendAsync(puppet, TimeSpan.FromSeconds(waitSeconds ?? 5), cancellationToken);
        return TypedResults.Ok(outcome);
    }
}
