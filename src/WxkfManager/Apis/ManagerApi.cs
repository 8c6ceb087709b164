using Microsoft.AspNetCore.Http.HttpResults;
using WxkfManager.Delivery;
using Microsoft.Extensions.Options;
using WxkfManager.Options;
using WxkfManager.Registry;
using WxkfManager.Security;

namespace WxkfManager.Apis;

/// <summary>The puppets' side of the original service: register, deregister, registration info.</summary>
public static class ManagerApi
{
    public const string Prefix = "/puppetWxkfManager";

    public static RouteGroupBuilder MapManagerApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup(Prefix).WithTags("Puppets")
            .RequirePuppetAccess((status, message) => Refuse(status, message))
            .RequireRateLimiting(SecurityServiceCollectionExtensions.ManagementRateLimit);
        api.MapPost("/register", Register).WithName("register")
            .WithSummary("Register (or re-register) a puppet; it is online from now on");
        api.MapPost("/deregister", Deregister).WithName("deregister")
            .WithSummary("Mark a puppet offline; its record and the time are kept");
        api.MapGet("/puppetWxkfInfo/{kfId}", GetPuppetInfo).WithName("puppetWxkfInfo")
            .WithSummary("A puppet's registration, without its secrets");
        api.MapTokenApi();
        return api;
    }

    public static async Task<Results<Ok<ManagerResponse>, JsonHttpResult<ManagerResponse>>> Register(
        HttpRequest request, IPuppetRegistry registry, PuppetDirectory directory, TimeProvider time,
        IOptionsMonitor<SecurityOptions> security, ILogger<RegisterRequest> logger, CancellationToken cancellationToken)
    {
        var allowedHosts = security.CurrentValue.AllowedPuppetHosts;
        var (body, refusal) = await ReadValidAsync<RegisterRequest>(request, r => RegistrationValidation.Validate(r, allowedHosts), cancellationToken);
        if (body is null)
        {
            logger.LogWarning("Refused a registration: {Reason}", refusal!.Value!.Message);
            return refusal;
        }

        var registration = new PuppetRegistration(
            body.KfId!, body.KfName!, RegistrationValidation.NormalizeEndpoint(body.Endpoint!), body.CorpId!, body.CorpSecret!, body.Token!, body.EncodingAesKey!,
            Online: true, LastOnlineDate: null, RegisteredAt: time.GetUtcNow().UtcDateTime);
        try
        {
            var differences = RegistrationOwnership.Differences(await registry.FindAsync(registration.KfId, cancellationToken), body);
            if (differences.Count > 0)
            {
                logger.LogWarning("Refused a registration of {KfId} for {CorpId} from {ClientAddress}: its {Differences} differ from the registered puppet's",
                    registration.KfId, registration.CorpId, request.HttpContext.Connection.RemoteIpAddress, string.Join(", ", differences));
                return Refuse(StatusCodes.Status409Conflict, RegistrationOwnership.Refusal(registration.KfId, differences));
            }
            var stored = await registry.UpsertAsync(registration, cancellationToken);
            await directory.ApplyAsync(stored, cancellationToken);
        }
        catch (Exception exception) when (StoreFailure.IsStoreFailure(exception))
        {
            logger.LogError(exception, "Store failed registering {KfId}", registration.KfId);
            return Refuse(StatusCodes.Status503ServiceUnavailable, "store unavailable, retry later");
        }
        logger.LogInformation("Puppet {KfId} ({KfName}) of {CorpId} registered at {Endpoint}",
            registration.KfId, registration.KfName, registration.CorpId, registration.Endpoint);
        return TypedResults.Ok(ManagerResponse.Success);
    }

    public static async Task<Results<Ok<ManagerResponse>, JsonHttpResult<ManagerResponse>>> Deregister(
        HttpRequest request, IPuppetRegistry registry, PuppetDirectory directory, TimeProvider time, ILogger<DeregisterRequest> logger,
        CancellationToken cancellationToken)
    {
        var (body, refusal) = await ReadValidAsync<DeregisterRequest>(request, RegistrationValidation.Validate, cancellationToken);
        if (body is null)
        {
            return refusal!;
        }

        PuppetRegistration? offline;
        try
        {
            offline = await registry.MarkOfflineAsync(body.KfId!, body.CorpId!, time.GetUtcNow().UtcDateTime, cancellationToken);
            if (offline is not null)
            {
                await directory.ApplyAsync(offline, cancellationToken);
            }
        }
        catch (Exception exception) when (StoreFailure.IsStoreFailure(exception))
        {
            logger.LogError(exception, "Store failed deregistering {KfId}", body.KfId);
            return Refuse(StatusCodes.Status503ServiceUnavailable, "store unavailable, retry later");
        }
        if (offline is null)
        {
            return Refuse(StatusCodes.Status404NotFound, $"no puppet {body.KfId} is registered in corp {body.CorpId}");
        }
        logger.LogInformation("Puppet {KfId} of {CorpId} deregistered", offline.KfId, offline.CorpId);
        return TypedResults.Ok(ManagerResponse.Success);
    }

    public static async Task<Results<Ok<PuppetInfo>, JsonHttpResult<ManagerResponse>>> GetPuppetInfo(
        string kfId, IPuppetRegistry registry, DeliveryTracker tracker, ILogger<PuppetInfo> logger, CancellationToken cancellationToken)
    {
        if (!WeComIds.IsOpenKfId(kfId))
        {
            return Refuse(StatusCodes.Status400BadRequest, "kfId " + WeComIds.OpenKfIdRule);
        }
        try
        {
            var registration = await registry.FindAsync(kfId, cancellationToken);
            return registration is null
                ? Refuse(StatusCodes.Status404NotFound, $"no puppet {kfId} is registered")
                : TypedResults.Ok(PuppetInfo.From(registration, tracker.For(registration.KfId, registration.Endpoint)));
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
        var (body, _, error, tooLarge) = await RequestBody.ReadJsonAsync<T>(request, cancellationToken);
        if (body is null)
        {
            return (null, Refuse(tooLarge ? StatusCodes.Status413PayloadTooLarge : StatusCodes.Status400BadRequest, error!));
        }
        var errors = validate(body);
        return errors.Count > 0 ? (null, Refuse(StatusCodes.Status400BadRequest, string.Join("; ", errors))) : (body, null);
    }

    private static JsonHttpResult<ManagerResponse> Refuse(int status, string message) =>
        TypedResults.Json(new ManagerResponse(status, message), statusCode: status);
}
