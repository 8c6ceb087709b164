using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using WxkfManager.Callbacks;
using WxkfManager.Delivery;
using WxkfManager.Options;
using WxkfManager.Security;

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
            .WithSummary("A gateway's decrypted event {token, openKfId}: forwarded to the puppet's /callback/decrypted");
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
        HttpContext context, CallbackIntake intake, SignatureFailureLimiter limiter, CancellationToken cancellationToken)
    {
        Metrics.ManagerMetrics.CallbacksReceived.WithLabels("verify").Inc();
        var client = context.Connection.RemoteIpAddress;
        if (limiter.IsBlocked(client))
        {
            return TooManyFailures();
        }
        var signed = query.ToSignedQuery(out var problem);
        if (signed is null || string.IsNullOrEmpty(echostr))
        {
            return Refuse(StatusCodes.Status400BadRequest, problem ?? "query parameter(s) required: echostr", "bad_query");
        }
        // Base64 has no spaces: a space is a '+' that was not percent-encoded on the way in.
        var result = await intake.VerifyUrlAsync(corpId, signed, echostr.Replace(' ', '+'), cancellationToken);
        RecordFailure(result, limiter, client);
        return result.Status == IntakeStatus.Verified ? TypedResults.Text(result.Detail, "text/plain") : ToProblem(result);
    }

    public static async Task<Results<ContentHttpResult, ProblemHttpResult>> Receive(
        string corpId, [AsParameters] SignedQueryParameters query, HttpRequest request,
        CallbackIntake intake, SignatureFailureLimiter limiter, IOptions<CallbackOptions> options, Serilog.IDiagnosticContext diagnostics,
        CancellationToken cancellationToken)
    {
        Metrics.ManagerMetrics.CallbacksReceived.WithLabels("encrypted").Inc();
        var client = request.HttpContext.Connection.RemoteIpAddress;
        if (limiter.IsBlocked(client))
        {
            return TooManyFailures();
        }
        var signed = query.ToSignedQuery(out var problem);
        if (signed is null)
        {
            return Refuse(StatusCodes.Status400BadRequest, problem!, "bad_query");
        }
        var (body, error, tooLarge) = await RequestBody.ReadTextAsync(request, options.Value.MaxBodyBytes, cancellationToken);
        if (body is null)
        {
            return Refuse(tooLarge ? StatusCodes.Status413PayloadTooLarge : StatusCodes.Status400BadRequest, error!, tooLarge ? "too_large" : "bad_body");
        }
        var result = await intake.ReceiveEncryptedAsync(corpId, signed, body, cancellationToken);
        if (result.Status == IntakeStatus.Queued)
        {
            diagnostics.Set("CorrelationId", result.Detail);
        }
        RecordFailure(result, limiter, client);
        return IsAccepted(result.Status)
            ? TypedResults.Text(Success, "text/plain")
            : ToProblem(result);
    }

    public static async Task<Results<ContentHttpResult, ProblemHttpResult>> ReceiveDecrypted(
        string corpId, HttpRequest request, CallbackIntake intake, Serilog.IDiagnosticContext diagnostics, CancellationToken cancellationToken)
    {
        Metrics.ManagerMetrics.CallbacksReceived.WithLabels("decrypted").Inc();
        var (body, raw, error, tooLarge) = await RequestBody.ReadJsonAsync<DecryptedCallback>(request, cancellationToken);
        if (body is null)
        {
            return Refuse(tooLarge ? StatusCodes.Status413PayloadTooLarge : StatusCodes.Status400BadRequest, error!, tooLarge ? "too_large" : "bad_body");
        }
        if (string.IsNullOrEmpty(body.Token) || string.IsNullOrEmpty(body.OpenKfId))
        {
            return Refuse(StatusCodes.Status400BadRequest, "body must have non-empty token and openKfId", "bad_body");
        }
        var result = await intake.ReceiveDecryptedAsync(corpId, body.OpenKfId, body.Token, raw!, cancellationToken);
        if (result.Status == IntakeStatus.Queued)
        {
            diagnostics.Set("CorrelationId", result.Detail);
        }
        Count(result);
        return IsAccepted(result.Status)
            ? TypedResults.Text(Roger, "text/plain")
            : ToProblem(result);
    }

    // Stored (queued or dead-lettered), already stored, or not ours to forward: the sender need not resend.
    private static bool IsAccepted(IntakeStatus status) =>
        status is IntakeStatus.Queued or IntakeStatus.Ignored or IntakeStatus.Duplicate or IntakeStatus.DeadLettered;

    private static ProblemHttpResult ToProblem(IntakeResult result) => result.Status switch
    {
        IntakeStatus.UnknownCorp or IntakeStatus.UnknownPuppet => Refuse(StatusCodes.Status404NotFound, result.Detail),
        IntakeStatus.SignatureMismatch => Refuse(StatusCodes.Status403Forbidden, result.Detail),
        IntakeStatus.StoreUnavailable => Refuse(StatusCodes.Status503ServiceUnavailable, result.Detail),
        _ => Refuse(StatusCodes.Status400BadRequest, result.Detail),
    };

    private static void RecordFailure(IntakeResult result, SignatureFailureLimiter limiter, System.Net.IPAddress? client)
    {
        Count(result);
        if (result.Status == IntakeStatus.SignatureMismatch)
        {
            limiter.RecordFailure(client);
        }
    }

    private static void Count(IntakeResult result)
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
            Metrics.ManagerMetrics.CallbacksAccepted.WithLabels(label).Inc();
        }
        else
        {
            Metrics.ManagerMetrics.CallbacksRefused.WithLabels(ToSnakeCase(result.Status.ToString())).Inc();
        }
    }

    private static string ToSnakeCase(string name) =>
        string.Concat(name.Select((c, i) => i > 0 && char.IsUpper(c) ? "_" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));

    private static ProblemHttpResult TooManyFailures() =>
        Refuse(StatusCodes.Status429TooManyRequests, "too many callbacks with a bad signature from this address; retry in a minute", "rate_limited");

    private static ProblemHttpResult Refuse(int status, string detail, string reason)
    {
        Metrics.ManagerMetrics.CallbacksRefused.WithLabels(reason).Inc();
        return Refuse(status, detail);
    }

    private static ProblemHttpResult Refuse(int status, string detail) =>
        TypedResults.Problem(detail: detail, statusCode: status);
}
