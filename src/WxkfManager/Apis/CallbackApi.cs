using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using WxkfManager.Callbacks;
using WxkfManager.Delivery;
using WxkfManager.Metrics;
using WxkfManager.Settings;
using WxkfManager.Security;
using WxkfManager.Registry;

namespace WxkfManager.Apis;

/// <summary>WeCom's (or a gateway's) side: URL verification and event callbacks.</summary>
public static class CallbackApi
{
    public const string Success = "success";
    public const string Roger = "roger";

    public static RouteGroupBuilder MapCallbackApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/callback").WithTags("Callback");
        api.MapGet("/{corpId}", VerifyUrl).WithName("verifyCallbackUrl")
            .WithSummary("WeCom URL verification: answers the decrypted echostr");
        api.MapPost("/{corpId}", Receive).WithName("callback")
            .WithSummary("WeCom's encrypted callback: verified, then forwarded unchanged to the puppet's /callback");
        api.MapPost("/decrypted/{corpId}", ReceiveDecrypted).WithName("decryptedCallback")
            .WithSummary("A gateway's decrypted event {token, openKfId}: forwarded to the puppet's /callback/decrypted")
            .RequireGatewayAccess((status, message) => new CountedRefusal(Refuse(status, message), "gateway_refused"));
        return api;
    }

    public sealed record SignedQueryParameters(
        [property: FromQuery(Name = "msg_signature")] string? MsgSignature,
        [property: FromQuery(Name = "timestamp")] string? Timestamp,
        [property: FromQuery(Name = "nonce")] string? Nonce)
    {
        public SignedQuery? ToSignedQuery(out string? problem)
        {
            var missing = new[] { ("msg_signature", MsgSignature), ("timestamp", Timestamp), ("nonce", Nonce) }
                .Where(p => string.IsNullOrEmpty(p.Item2)).Select(p => p.Item1).ToList();
            problem = missing.Count > 0 ? $"query parameter(s) required: {string.Join(", ", missing)}" : null;
            return problem is null ? new SignedQuery(MsgSignature!, Timestamp!, Nonce!) : null;
        }
    }

    public static async Task<Results<ContentHttpResult, ProblemHttpResult>> VerifyUrl(
        string corpId, [AsParameters] SignedQueryParameters query, [FromQuery(Name = "echostr")] string? echostr,
        HttpContext context, CallbackIntake intake, [AsParameters] CallbackServices services, CancellationToken cancellationToken)
    {
        var metrics = services.Metrics;
        metrics.CallbackReceived("verify");
        var client = context.Connection.RemoteIpAddress;
        if (services.Limiter.IsBlocked(client))
        {
            return TooManyFailures(metrics);
        }
        if (!WeComIds.IsCorpId(corpId))
        {
            return Refuse(metrics, StatusCodes.Status400BadRequest, WeComIds.CorpIdRule, "bad_corp_id");
        }
        var signed = query.ToSignedQuery(out var problem);
        if (signed is null || string.IsNullOrEmpty(echostr))
        {
            return Refuse(metrics, StatusCodes.Status400BadRequest, problem ?? "query parameter(s) required: echostr", "bad_query");
        }
        // Base64 has no spaces: a space is a '+' that was not percent-encoded on the way in.
        var result = await intake.VerifyUrlAsync(corpId, signed, echostr.Replace(' ', '+'), cancellationToken);
        RecordFailure(result, services, client);
        return result.Status == IntakeStatus.Verified
            ? TypedResults.Text(result.Echostr!, "text/plain")
            : ToProblem(result, context.Response, services.Options.Value);
    }

    public static async Task<Results<ContentHttpResult, ProblemHttpResult>> Receive(
        string corpId, [AsParameters] SignedQueryParameters query, HttpRequest request,
        CallbackIntake intake, [AsParameters] CallbackServices services, CancellationToken cancellationToken)
    {
        var metrics = services.Metrics;
        metrics.CallbackReceived("encrypted");
        var client = request.HttpContext.Connection.RemoteIpAddress;
        if (services.Limiter.IsBlocked(client))
        {
            return TooManyFailures(metrics);
        }
        if (!WeComIds.IsCorpId(corpId))
        {
            return Refuse(metrics, StatusCodes.Status400BadRequest, WeComIds.CorpIdRule, "bad_corp_id");
        }
        var signed = query.ToSignedQuery(out var problem);
        if (signed is null)
        {
            return Refuse(metrics, StatusCodes.Status400BadRequest, problem!, "bad_query");
        }
        var read = await RequestBody.ReadTextAsync(request, services.Options.Value.MaxBodyBytes, cancellationToken);
        if (!read.IsRead)
        {
            return Refuse(metrics, read.Problem.StatusCode, read.Problem.Message, read.Problem.MetricReason);
        }
        var body = read.Value;
        var result = await intake.ReceiveEncryptedAsync(corpId, signed, body, cancellationToken);
        if (result.Status == IntakeStatus.Queued)
        {
            services.Diagnostics.Set("CorrelationId", result.DeliveryId);
        }
        RecordFailure(result, services, client);
        return IsAccepted(result.Status)
            ? TypedResults.Text(Success, "text/plain")
            : ToProblem(result, request.HttpContext.Response, services.Options.Value);
    }

    public static async Task<Results<ContentHttpResult, ProblemHttpResult>> ReceiveDecrypted(
        string corpId, HttpRequest request, CallbackIntake intake, [AsParameters] CallbackServices services, CancellationToken cancellationToken)
    {
        var metrics = services.Metrics;
        metrics.CallbackReceived("decrypted");
        if (!WeComIds.IsCorpId(corpId))
        {
            return Refuse(metrics, StatusCodes.Status400BadRequest, WeComIds.CorpIdRule, "bad_corp_id");
        }
        var read = await RequestBody.ReadJsonAsync<DecryptedCallback>(request, cancellationToken, services.Options.Value.MaxDecryptedBodyBytes);
        if (!read.IsRead)
        {
            return Refuse(metrics, read.Problem.StatusCode, read.Problem.Message, read.Problem.MetricReason);
        }
        var body = read.Value;
        if (string.IsNullOrEmpty(body.Token) || string.IsNullOrEmpty(body.OpenKfId))
        {
            return Refuse(metrics, StatusCodes.Status400BadRequest, "body must have non-empty token and openKfId", "bad_body");
        }
        if (!WeComIds.IsOpenKfId(body.OpenKfId))
        {
            return Refuse(metrics, StatusCodes.Status400BadRequest, "openKfId " + WeComIds.OpenKfIdRule, "bad_body");
        }
        if (!WeComIds.IsSyncToken(body.Token))
        {
            return Refuse(metrics, StatusCodes.Status400BadRequest, WeComIds.SyncTokenRule, "bad_body");
        }
        // Only what the puppet reads is stored and forwarded, whatever else the sender put in.
        var stored = System.Text.Json.JsonSerializer.Serialize(new DecryptedCallback(body.Token, body.OpenKfId));
        var result = await intake.ReceiveDecryptedAsync(corpId, body.OpenKfId, body.Token, stored, cancellationToken);
        if (result.Status == IntakeStatus.Queued)
        {
            services.Diagnostics.Set("CorrelationId", result.DeliveryId);
        }
        Count(result, metrics);
        return IsAccepted(result.Status)
            ? TypedResults.Text(Roger, "text/plain")
            : ToProblem(result, request.HttpContext.Response, services.Options.Value);
    }

    // Stored (queued or dead-lettered), already stored, or not ours to forward: the sender need not resend.
    // An unsigned event for an unknown puppet is answered as if accepted (not stored), so the gateway path lists nothing.
    private static bool IsAccepted(IntakeStatus status) =>
        status is IntakeStatus.Queued or IntakeStatus.Ignored or IntakeStatus.Duplicate or IntakeStatus.DeadLettered or IntakeStatus.UnknownPuppet;

    private static ProblemHttpResult ToProblem(IntakeResult result, HttpResponse response, CallbackOptions options)
    {
        switch (result.Status)
        {
            // Alike on purpose: status and detail say nothing of whether the corp is registered.
            case IntakeStatus.UnknownCorp or IntakeStatus.SignatureMismatch:
                return Refuse(StatusCodes.Status403Forbidden, CallbackIntake.SignatureRefusal);
            case IntakeStatus.QueueFull:
                response.Headers.RetryAfter = options.QueueFullRetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
                return Refuse(StatusCodes.Status503ServiceUnavailable, result.Reason!);
            case IntakeStatus.StoreUnavailable:
                return Refuse(StatusCodes.Status503ServiceUnavailable, result.Reason!);
            default:
                return Refuse(StatusCodes.Status400BadRequest, result.Reason!);
        }
    }

    private static void RecordFailure(IntakeResult result, CallbackServices services, System.Net.IPAddress? client)
    {
        Count(result, services.Metrics);
        if (result.Status == IntakeStatus.SignatureMismatch)
        {
            services.Limiter.RecordFailure(client);
        }
    }

    private static void Count(IntakeResult result, ManagerMetrics metrics)
    {
        var label = result.Status switch
        {
            IntakeStatus.Queued => "queued",
            IntakeStatus.Verified => "verified",
            IntakeStatus.Ignored => "ignored",
            IntakeStatus.Duplicate => "duplicate",
            IntakeStatus.DeadLettered => "dead_lettered",
            _ => null,
        };
        if (label is not null)
        {
            metrics.CallbackAccepted(label);
        }
        else
        {
            metrics.CallbackRefused(ToSnakeCase(result.Status.ToString()));
        }
    }

    private static string ToSnakeCase(string name) =>
        string.Concat(name.Select((c, i) => i > 0 && char.IsUpper(c) ? "_" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));

    private static ProblemHttpResult TooManyFailures(ManagerMetrics metrics) =>
        Refuse(metrics, StatusCodes.Status429TooManyRequests, "too many callbacks with a bad signature from this address; retry in a minute", "rate_limited");

    private static ProblemHttpResult Refuse(ManagerMetrics metrics, int status, string detail, string reason)
    {
        metrics.CallbackRefused(reason);
        return Refuse(status, detail);
    }

    private static ProblemHttpResult Refuse(int status, string detail) =>
        TypedResults.Problem(detail: detail, statusCode: status);

    /// <summary>A refusal made before the handler runs (the gateway filter), counted when it is written.</summary>
    private sealed class CountedRefusal(ProblemHttpResult refusal, string reason) : IResult
    {
        public Task ExecuteAsync(HttpContext context)
        {
            context.RequestServices.GetRequiredService<ManagerMetrics>().CallbackRefused(reason);
            return refusal.ExecuteAsync(context);
        }
    }
}
