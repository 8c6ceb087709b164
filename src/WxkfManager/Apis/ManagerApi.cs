using Microsoft.AspNetCore.Http.HttpResults;
using WxkfManager.Delivery;
using Microsoft.Extensions.Options;
using WxkfManager.Settings;
using WxkfManager.Registry;
using WxkfManager.Security;
using WxkfManager.Storage;

namespace WxkfManager.Apis;

/// <summary>The puppets' side of the original service: register, deregister, registration info.</summary>
public static class ManagerApi
{
    public const string Prefix = "/puppetWxkfManager";

    public static RouteGroupBuilder MapManagerApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapPuppetGroup();
        api.MapPost("/register", Register).WithName("register")
            .WithSummary("Register (or re-register) a puppet; it is online from now on");
        api.MapPost("/deregister", Deregister).WithName("deregister")
            .WithSummary("Mark a puppet offline; its record and the time are kept");
        api.MapGet("/puppetWxkfInfo/{kfId}", GetPuppetInfo).WithName("puppetWxkfInfo")
            .WithSummary("A puppet's registration, without its secrets");
        return api;
    }

    /// <summary>The puppets' routes (this group and the token API): behind the puppets' key, refused in the original's answer shape.</summary>
    public static RouteGroupBuilder MapPuppetGroup(this IEndpointRouteBuilder app) =>
        app.MapGroup(Prefix).WithTags("Puppets")
            .RequirePuppetAccess((status, message) => Refuse(status, message))
            .RequireRateLimiting(SecurityServiceCollectionExtensions.ManagementRateLimit);

    public static async Task<Results<Ok<ManagerResponse>, JsonHttpResult<ManagerResponse>>> Register(
        HttpRequest request, [AsParameters] PuppetServices services, CancellationToken cancellationToken)
    {
        var logger = services.Logger;
        var allowedHosts = services.Security.CurrentValue.AllowedPuppetHosts;
        var (body, refusal) = await ReadValidAsync<RegisterRequest>(request, r => RegistrationValidation.Validate(r, allowedHosts), cancellationToken);
        if (body is null)
        {
            logger.LogWarning("Refused a registration: {Reason}", refusal!.Value!.Message);
            return refusal;
        }

        var now = services.Time.GetUtcNow().UtcDateTime;
        var endpoint = RegistrationValidation.NormalizeEndpoint(body.Endpoint!);
        var instance = new PuppetInstance(ClientAddress(request.HttpContext), endpoint, now);
        PuppetRegistration registration;
        int released;
        try
        {
            var existing = await services.Registry.FindAsync(body.KfId!, cancellationToken);
            var differences = RegistrationOwnership.Differences(existing, body);
            if (differences.Count > 0)
            {
                logger.LogWarning("Refused a registration of {KfId} for {CorpId} from {ClientAddress}: its {Differences} differ from the registered puppet's",
                    body.KfId, body.CorpId, instance.Address, string.Join(", ", differences));
                services.Metrics.RegistrationRefused("ownership");
                return Refuse(StatusCodes.Status409Conflict, RegistrationOwnership.Refusal(body.KfId!, differences));
            }
            if (RegistrationCaps.Refusal(existing, body.CorpId!, services.Directory.Count, services.Directory.CountInCorp(body.CorpId!),
                    services.Registration.Value) is { } capped)
            {
                logger.LogWarning("Refused a registration of {KfId} for {CorpId} from {ClientAddress}: {Reason}", body.KfId, body.CorpId, instance.Address, capped);
                services.Metrics.RegistrationRefused("cap");
                return Refuse(StatusCodes.Status409Conflict, capped);
            }
            registration = new PuppetRegistration(
                body.KfId!, body.KfName!, endpoint, body.CorpId!, body.CorpSecret!, body.Token!, body.EncodingAesKey!,
                Online: true, LastOnlineDate: null, RegisteredAt: now)
            {
                Instances = HandOver.AfterRegistration(existing?.CorpId == body.CorpId ? existing : null, instance),
            };
            var stored = await services.Registry.UpsertAsync(registration, cancellationToken);
            await services.Directory.ApplyAsync(stored, cancellationToken);
            released = await ReleaseBacklogAsync(services, registration.KfId, now, cancellationToken);
        }
        catch (Exception exception) when (StoreFailure.IsStoreFailure(exception))
        {
            logger.LogError(exception, "Store failed registering {KfId}", body.KfId);
            return Refuse(StatusCodes.Status503ServiceUnavailable, "store unavailable, retry later");
        }
        logger.LogInformation("Puppet {KfId} ({KfName}) of {CorpId} registered at {Endpoint} from {ClientAddress} ({Instances} instance(s) since it was last offline; {Released} queued event(s) released)",
            registration.KfId, registration.KfName, registration.CorpId, registration.Endpoint, instance.Address,
            registration.Instances.Count, released);
        return TypedResults.Ok(ManagerResponse.Success);
    }

    /// <summary>
    /// A puppet that registers is there now: what waits for it is due at once, and what was given up on while
    /// it was away (within the age limit, so its sync tokens are still valid) is queued again.
    /// </summary>
    private static async Task<int> ReleaseBacklogAsync(PuppetServices services, string kfId, DateTime now, CancellationToken cancellationToken)
    {
        var maxAge = services.Delivery.Value.MaxAge;
        services.Tracker.Registered(kfId, now, services.Registration.Value.ReleaseDelay);
        var released = await services.Queue.ReleaseForPuppetAsync(kfId, now, now - maxAge, now + maxAge, cancellationToken);
        if (released > 0)
        {
            services.Signal.Notify();
        }
        return released;
    }

    public static async Task<Results<Ok<ManagerResponse>, JsonHttpResult<ManagerResponse>>> Deregister(
        HttpRequest request, [AsParameters] PuppetServices services, CancellationToken cancellationToken)
    {
        var (body, refusal) = await ReadValidAsync<DeregisterRequest>(request, RegistrationValidation.Validate, cancellationToken);
        if (body is null)
        {
            return refusal!;
        }

        var logger = services.Logger;
        var caller = ClientAddress(request.HttpContext);
        try
        {
            var current = await services.Registry.FindAsync(body.KfId!, cancellationToken);
            var decision = HandOver.OnDeregister(current, body.CorpId!, caller);
            switch (decision.Action)
            {
                case DeregisterAction.GoOffline:
                    var offline = await services.Registry.MarkOfflineIfLatestAsync(current!, services.Time.GetUtcNow().UtcDateTime, cancellationToken);
                    if (offline is null)
                    {
                        logger.LogInformation("Deregister of {KfId} from {ClientAddress} changed nothing: another instance registered meanwhile", body.KfId, caller);
                        break;
                    }
                    await services.Directory.ApplyAsync(offline, cancellationToken);
                    logger.LogInformation("Puppet {KfId} of {CorpId} deregistered from {ClientAddress}: {Reason}", offline.KfId, offline.CorpId, caller, decision.Reason);
                    break;
                case DeregisterAction.ProbeNewest:
                    services.Probe.Schedule(current!);
                    logger.LogInformation("Deregister of {KfId} from {ClientAddress}: {Reason}; checking {Endpoint} shortly", body.KfId, caller, decision.Reason, current!.Endpoint);
                    break;
                default:
                    // Idempotent, as the original: a stopping puppet must be able to exit whatever the manager knows.
                    logger.LogInformation("Deregister of {KfId} in {CorpId} from {ClientAddress} changed nothing: {Reason}", body.KfId, body.CorpId, caller, decision.Reason);
                    break;
            }
        }
        catch (Exception exception) when (StoreFailure.IsStoreFailure(exception))
        {
            logger.LogError(exception, "Store failed deregistering {KfId}", body.KfId);
            return Refuse(StatusCodes.Status503ServiceUnavailable, "store unavailable, retry later");
        }
        return TypedResults.Ok(ManagerResponse.Success);
    }

    private static string ClientAddress(HttpContext context) =>
        context.Connection.RemoteIpAddress is { } address
            ? (address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address).ToString()
            : "unknown";

    public static async Task<Results<Ok<PuppetInfo>, JsonHttpResult<ManagerResponse>>> GetPuppetInfo(
        string kfId, [AsParameters] PuppetServices services, CancellationToken cancellationToken)
    {
        var (registry, queue, tracker, logger) = (services.Registry, services.Queue, services.Tracker, services.Logger);
        if (!WeComIds.IsOpenKfId(kfId))
        {
            return Refuse(StatusCodes.Status400BadRequest, "kfId " + WeComIds.OpenKfIdRule);
        }
        try
        {
            var registration = await registry.FindAsync(kfId, cancellationToken);
            if (registration is null)
            {
                return Refuse(StatusCodes.Status404NotFound, $"no puppet {kfId} is registered");
            }
            var waiting = await queue.CountQueuedAsync(kfId, cancellationToken);
            return TypedResults.Ok(PuppetInfo.From(registration, tracker.For(registration.KfId, waiting)));
        }
        catch (Exception exception) when (StoreFailure.IsStoreFailure(exception))
        {
            logger.LogError(exception, "Store failed reading {KfId}", kfId);
            return Refuse(StatusCodes.Status503ServiceUnavailable, "store unavailable, retry later");
        }
    }

    private static async Task<(T? Body, JsonHttpResult<ManagerResponse>? Refusal)> ReadValidAsync<T>(
        HttpRequest request, Func<T, IReadOnlyList<string>> validate, CancellationToken cancellationToken)
        where T : class
    {
        var read = await RequestBody.ReadJsonAsync<T>(request, cancellationToken);
        if (!read.IsRead)
        {
            return (null, Refuse(read.Problem.StatusCode, read.Problem.Message));
        }
        var errors = validate(read.Value);
        return errors.Count > 0 ? (null, Refuse(StatusCodes.Status400BadRequest, string.Join("; ", errors))) : (read.Value, null);
    }

    private static JsonHttpResult<ManagerResponse> Refuse(int status, string message) =>
        TypedResults.Json(new ManagerResponse(status, message), statusCode: status);
}
