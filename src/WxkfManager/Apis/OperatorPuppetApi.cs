using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using WxkfManager.Settings;
using WxkfManager.Registry;

namespace WxkfManager.Apis;

/// <summary>
/// What only an operator may do to a registration: replace it (new credentials, corp or endpoint, whoever
/// holds the kfId now) or release it (offline, so the next registration may bring other credentials).
/// </summary>
public static class OperatorPuppetApi
{
    public static RouteGroupBuilder MapOperatorPuppetApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapOperatorGroup();
        api.MapPut("/puppets/{kfId}", Replace).WithName("replacePuppet")
            .WithSummary("Replace a puppet's registration (credentials, corp, endpoint), bypassing the ownership check");
        api.MapDelete("/puppets/{kfId}", Release).WithName("releasePuppet")
            .WithSummary("Take a puppet offline and free its kfId for a registration with other credentials");
        return api;
    }

    public static async Task<Results<Ok<ManagerResponse>, ProblemHttpResult>> Replace(
        string kfId, HttpRequest request, [AsParameters] OperatorPuppetServices services, CancellationToken cancellationToken)
    {
        var read = await RequestBody.ReadJsonAsync<RegisterRequest>(request, cancellationToken);
        if (!read.IsRead)
        {
            return Problem(read.Problem.StatusCode, read.Problem.Message);
        }
        var body = read.Value;
        var errors = RegistrationValidation.Validate(body, services.Security.CurrentValue.AllowedPuppetHosts);
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
            body.EncodingAesKey!, Online: true, LastOnlineDate: null, RegisteredAt: services.Time.GetUtcNow().UtcDateTime);
        var stored = await services.Registry.UpsertAsync(registration, cancellationToken);
        await services.Directory.ApplyAsync(stored, cancellationToken);
        services.Logger.LogWarning("Operator replaced the registration of {KfId}: now corp {CorpId} at {Endpoint}", kfId, registration.CorpId, registration.Endpoint);
        return TypedResults.Ok(ManagerResponse.Success);
    }

    public static async Task<Results<Ok<ManagerResponse>, ProblemHttpResult>> Release(
        string kfId, [AsParameters] OperatorPuppetServices services, CancellationToken cancellationToken)
    {
        if (!WeComIds.IsOpenKfId(kfId))
        {
            return Problem(StatusCodes.Status400BadRequest, "kfId " + WeComIds.OpenKfIdRule);
        }
        var current = await services.Registry.FindAsync(kfId, cancellationToken);
        var offline = current is null ? null : await services.Registry.MarkOfflineAsync(kfId, current.CorpId, services.Time.GetUtcNow().UtcDateTime, cancellationToken);
        if (offline is null)
        {
            return Problem(StatusCodes.Status404NotFound, $"no puppet {kfId} is registered");
        }
        await services.Directory.ApplyAsync(offline, cancellationToken);
        services.Logger.LogWarning("Operator released {KfId} of {CorpId}: offline, and free for a registration with other credentials", kfId, offline.CorpId);
        return TypedResults.Ok(ManagerResponse.Success);
    }

    public sealed record OperatorPuppetServices(
        IPuppetRegistry Registry, PuppetDirectory Directory, TimeProvider Time, IOptionsMonitor<SecurityOptions> Security, ILoggerFactory Loggers)
    {
        public ILogger Logger { get; } = Loggers.CreateLogger(typeof(OperatorPuppetApi));
    }

    private static ProblemHttpResult Problem(int status, string detail) => TypedResults.Problem(detail: detail, statusCode: status);
}
