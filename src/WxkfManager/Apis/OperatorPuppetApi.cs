using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using WxkfManager.Options;
using WxkfManager.Registry;

namespace WxkfManager.Apis;

/// <summary>
/// What only an operator may do to a registration: replace it (new credentials, corp or endpoint, whoever
/// holds the kfId now) or release it (offline, so the next registration may bring other credentials).
/// </summary>
public static class OperatorPuppetApi
{
    public static RouteGroupBuilder MapOperatorPuppetApi(this RouteGroupBuilder api)
    {
        api.MapPut("/puppets/{kfId}", Replace).WithName("replacePuppet")
            .WithSummary("Replace a puppet's registration (credentials, corp, endpoint), bypassing the ownership check");
        api.MapDelete("/puppets/{kfId}", Release).WithName("releasePuppet")
            .WithSummary("Take a puppet offline and free its kfId for a registration with other credentials");
        return api;
    }

    public static async Task<Results<Ok<ManagerResponse>, ProblemHttpResult>> Replace(
        string kfId, HttpRequest request, IPuppetRegistry registry, PuppetDirectory directory, TimeProvider time,
        IOptionsMonitor<SecurityOptions> security, ILogger<OperatorApi.ReplayView> logger, CancellationToken cancellationToken)
    {
        var (body, _, error, tooLarge) = await RequestBody.ReadJsonAsync<RegisterRequest>(request, cancellationToken);
        if (body is null)
        {
            return Problem(tooLarge ? StatusCodes.Status413PayloadTooLarge : StatusCodes.Status400BadRequest, error!);
        }
        var errors = RegistrationValidation.Validate(body, security.CurrentValue.AllowedPuppetHosts);
        if (errors.Count > 0)
        {
            return Problem(StatusCodes.Status400BadRequest, string.Join("; ", errors));
        }
        if (body.KfId != kfId)
        {
            return Problem(StatusCodes.Status400BadRequest, "the body's kfId must be the one in the path");
        }
        var registration = new PuppetRegistration(
            body.KfId, body.KfName!, RegistrationValidation.NormalizeEndpoint(body.Endpoint!), body.CorpId!, body.CorpSecret!, body.Token!,
            body.EncodingAesKey!, Online: true, LastOnlineDate: null, RegisteredAt: time.GetUtcNow().UtcDateTime);
        var stored = await registry.UpsertAsync(registration, cancellationToken);
        await directory.ApplyAsync(stored, cancellationToken);
        logger.LogWarning("Operator replaced the registration of {KfId}: now corp {CorpId} at {Endpoint}", kfId, registration.CorpId, registration.Endpoint);
        return TypedResults.Ok(ManagerResponse.Success);
    }

    public static async Task<Results<Ok<ManagerResponse>, ProblemHttpResult>> Release(
        string kfId, IPuppetRegistry registry, PuppetDirectory directory, TimeProvider time,
        ILogger<OperatorApi.ReplayView> logger, CancellationToken cancellationToken)
    {
        if (!WeComIds.IsOpenKfId(kfId))
        {
            return Problem(StatusCodes.Status400BadRequest, "kfId " + WeComIds.OpenKfIdRule);
        }
        var current = await registry.FindAsync(kfId, cancellationToken);
        var offline = current is null ? null : await registry.MarkOfflineAsync(kfId, current.CorpId, time.GetUtcNow().UtcDateTime, cancellationToken);
        if (offline is null)
        {
            return Problem(StatusCodes.Status404NotFound, $"no puppet {kfId} is registered");
        }
        await directory.ApplyAsync(offline, cancellationToken);
        logger.LogWarning("Operator released {KfId} of {CorpId}: offline, and free for a registration with other credentials", kfId, offline.CorpId);
        return TypedResults.Ok(ManagerResponse.Success);
    }

    private static ProblemHttpResult Problem(int status, string detail) => TypedResults.Problem(detail: detail, statusCode: status);
}
