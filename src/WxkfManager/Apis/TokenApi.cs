using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using WxkfManager.Registry;
using WxkfManager.Security;
using WxkfManager.Tokens;
using WxkfManager.WeCom;

namespace WxkfManager.Apis;

/// <summary>Access tokens and the WeCom API pass-through, for puppets behind the manager.</summary>
public static class TokenApi
{
    public static RouteGroupBuilder MapTokenApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapPuppetGroup();
        api.MapGet("/getToken", GetToken).WithName("getToken")
            .WithSummary("WeCom's gettoken answer (access_token, expires_in, errcode, errmsg) from ACCESS_TOKEN_URL");
        api.MapMethods("/wxkfRequestProxy/{*path}", [HttpMethods.Get, HttpMethods.Post], Proxy).WithName("wxkfRequestProxy")
            .WithSummary("Pass a call through to the WeCom API base, query and body as given");
        return api;
    }

    /// <summary>What the token handlers work with; their log lines are the TokenApi's.</summary>
    public sealed record TokenServices(AccessTokenService Tokens, PuppetDirectory Directory, WeComClient WeCom, ILoggerFactory Loggers)
    {
        public ILogger Logger { get; } = Loggers.CreateLogger(typeof(TokenApi));
    }

    public static async Task<Results<ContentHttpResult, BadRequest<TokenErrorResponse>, JsonHttpResult<TokenErrorResponse>>> GetToken(
        [FromQuery(Name = "corpid")] string? corpId,
        [FromQuery(Name = "corpsecret")] string? corpSecret,
        [FromQuery(Name = "refresh")] bool? refresh,
        [AsParameters] TokenServices services,
        CancellationToken cancellationToken)
    {
        var logger = services.Logger;
        // WeCom's own error codes for a missing corpid (41002) and corpsecret (41004).
        if (string.IsNullOrWhiteSpace(corpId))
        {
            return TypedResults.BadRequest(new TokenErrorResponse(41002, "corpid is required"));
        }
        if (string.IsNullOrWhiteSpace(corpSecret))
        {
            return TypedResults.BadRequest(new TokenErrorResponse(41004, "corpsecret is required"));
        }
        var registered = services.Directory.CorpSecretsFor(corpId);
        if (registered.Count > 0 && !registered.Any(secret => ManagementAccess.KeysEqual(corpSecret, secret)))
        {
            logger.LogWarning("getToken for {CorpId} with a corpsecret none of its registered puppets gave", corpId);
            return TypedResults.Json(new TokenErrorResponse(40001, "corpsecret does not match the one the corp's registered puppets gave"),
                statusCode: StatusCodes.Status403Forbidden);
        }
        try
        {
            var answer = await services.Tokens.GetAsync(corpId, corpSecret, refresh == true, cancellationToken);
            return TypedResults.Text(answer.Json, "application/json", System.Text.Encoding.UTF8, answer.StatusCode);
        }
        catch (Exception exception) when (exception is HttpRequestException or Polly.Timeout.TimeoutRejectedException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning("Token service unreachable for {CorpId}: {Reason}", corpId, exception.GetType().Name);
            return TypedResults.Json(new TokenErrorResponse(504, "token service unreachable"), statusCode: StatusCodes.Status502BadGateway);
        }
    }

    public static async Task<Results<UpstreamResult, BadRequest<TokenErrorResponse>, JsonHttpResult<TokenErrorResponse>>> Proxy(
        string? path, HttpContext context, [AsParameters] TokenServices services)
    {
        var (weCom, tokens, logger) = (services.WeCom, services.Tokens, services.Logger);
        // The server leaves %2F encoded in paths, and Swagger UI encodes every '/' of a path parameter: read it as
        // the '/' it stands for, then check the result like any other path ('..' segments are still refused).
        path = path?.Replace("%2F", "/", StringComparison.OrdinalIgnoreCase);
        if (ProxyPath.Check(path) is { } problem)
        {
            return TypedResults.BadRequest(new TokenErrorResponse(400, problem));
        }
        var request = context.Request;
        var method = new HttpMethod(request.Method);
        // Small bodies are kept so the call can be made again with a fresh token; uploads stream through once.
        var body = HttpMethods.IsPost(request.Method) ? await ProxyBody.ReadAsync(request, context.RequestAborted) : null;
        var query = request.QueryString.Value ?? "";
        try
        {
            var upstream = await weCom.ProxyAsync(method, path!, query, body?.ToContent(), context.RequestAborted);
            if (await TokenRejection.ReadAsync(upstream, context.RequestAborted) is { } rejected
                && request.Query["access_token"].ToString() is { Length: > 0 } stale
                && (body is null || body.Replayable)
                && await tokens.RefreshIssuedAsync(stale, context.RequestAborted) is { } fresh)
            {
                logger.LogInformation("WeCom answered {ErrCode} for a token we issued; refreshed it and called {ApiPath} again", rejected, path);
                upstream.Dispose();
                upstream = await weCom.ProxyAsync(method, path!, TokenRejection.ReplaceToken(query, stale, fresh), body?.ToContent(), context.RequestAborted);
            }
            context.Response.RegisterForDispose(upstream);
            return new UpstreamResult(upstream);
        }
        catch (Exception exception) when (exception is HttpRequestException or Polly.Timeout.TimeoutRejectedException or TaskCanceledException && !context.RequestAborted.IsCancellationRequested)
        {
            logger.LogWarning("WeCom API unreachable for {ApiPath}: {Reason}", path, exception.GetType().Name);
            return TypedResults.Json(new TokenErrorResponse(504, "WeCom API unreachable"), statusCode: StatusCodes.Status502BadGateway);
        }
    }

    /// <summary>Streams WeCom's answer back with its status, content type and content disposition.</summary>
    public sealed class UpstreamResult(HttpResponseMessage upstream) : IResult
    {
        public async Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.StatusCode = (int)upstream.StatusCode;
            var headers = upstream.Content.Headers;
            if (headers.ContentType is { } contentType)
            {
                httpContext.Response.ContentType = contentType.ToString();
            }
            if (headers.ContentDisposition is { } disposition)
            {
                httpContext.Response.Headers.ContentDisposition = disposition.ToString();
            }
            if (headers.ContentLength is { } length)
            {
                httpContext.Response.ContentLength = length;
            }
            await upstream.Content.CopyToAsync(httpContext.Response.Body, httpContext.RequestAborted);
        }
    }
}
