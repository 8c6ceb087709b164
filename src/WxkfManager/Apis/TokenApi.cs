using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using WxkfManager.WeCom;

namespace WxkfManager.Apis;

/// <summary>Access tokens and the WeCom API pass-through, for puppets behind the manager.</summary>
public static class TokenApi
{
    public static RouteGroupBuilder MapTokenApi(this RouteGroupBuilder api)
    {
        api.MapGet("/getToken", GetToken).WithName("getToken")
            .WithSummary("WeCom's gettoken answer (access_token, expires_in, errcode, errmsg) from ACCESS_TOKEN_URL");
        api.MapMethods("/wxkfRequestProxy/{*path}", [HttpMethods.Get, HttpMethods.Post], Proxy).WithName("wxkfRequestProxy")
            .WithSummary("Pass a call through to the WeCom API base, query and body as given");
        return api;
    }

    public static async Task<IResult> GetToken(
        [FromQuery(Name = "corpid")] string? corpId,
        [FromQuery(Name = "corpsecret")] string? corpSecret,
        WeComClient weCom,
        ILogger<WeComClient> logger,
        CancellationToken cancellationToken)
    {
        // WeCom's own error codes for a missing corpid (41002) and corpsecret (41004).
        if (string.IsNullOrWhiteSpace(corpId))
        {
            return TypedResults.BadRequest(new TokenErrorResponse(41002, "corpid is required"));
        }
        if (string.IsNullOrWhiteSpace(corpSecret))
        {
            return TypedResults.BadRequest(new TokenErrorResponse(41004, "corpsecret is required"));
        }
        try
        {
            using var upstream = await weCom.GetTokenAsync(corpId, corpSecret, cancellationToken);
            var body = await upstream.Content.ReadAsStringAsync(cancellationToken);
            if (!upstream.IsSuccessStatusCode)
            {
                logger.LogWarning("Token service answered HTTP {StatusCode} for {CorpId}", (int)upstream.StatusCode, corpId);
                return TypedResults.Json(new TokenErrorResponse(504, $"token service answered HTTP {(int)upstream.StatusCode}"), statusCode: StatusCodes.Status502BadGateway);
            }
            return TypedResults.Text(body, "application/json", System.Text.Encoding.UTF8);
        }
        catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning("Token service unreachable for {CorpId}: {Reason}", corpId, exception.GetType().Name);
            return TypedResults.Json(new TokenErrorResponse(504, "token service unreachable"), statusCode: StatusCodes.Status502BadGateway);
        }
    }

    public static async Task<IResult> Proxy(string? path, HttpContext context, WeComClient weCom, ILogger<WeComClient> logger)
    {
        if (ProxyPath.Check(path) is { } problem)
        {
            return TypedResults.BadRequest(new TokenErrorResponse(400, problem));
        }
        var request = context.Request;
        HttpContent? content = null;
        if (HttpMethods.IsPost(request.Method))
        {
            content = new StreamContent(request.Body);
            if (request.ContentType is { } contentType)
            {
                content.Headers.TryAddWithoutValidation("Content-Type", contentType);
            }
            if (request.ContentLength is { } length)
            {
                content.Headers.ContentLength = length;
            }
        }
        try
        {
            var upstream = await weCom.ProxyAsync(new HttpMethod(request.Method), path!, request.QueryString.Value ?? "", content, context.RequestAborted);
            context.Response.RegisterForDispose(upstream);
            return new UpstreamResult(upstream);
        }
        catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException && !context.RequestAborted.IsCancellationRequested)
        {
            logger.LogWarning("WeCom API unreachable for {ApiPath}: {Reason}", path, exception.GetType().Name);
            return TypedResults.Json(new TokenErrorResponse(504, "WeCom API unreachable"), statusCode: StatusCodes.Status502BadGateway);
        }
    }

    /// <summary>Streams WeCom's answer back with its status, content type and content disposition.</summary>
    private sealed class UpstreamResult(HttpResponseMessage upstream) : IResult
    {
        public async Task ExecuteAsync(HttpContext context)
        {
            context.Response.StatusCode = (int)upstream.StatusCode;
            var headers = upstream.Content.Headers;
            if (headers.ContentType is { } contentType)
            {
                context.Response.ContentType = contentType.ToString();
            }
            if (headers.ContentDisposition is { } disposition)
            {
                context.Response.Headers.ContentDisposition = disposition.ToString();
            }
            if (headers.ContentLength is { } length)
            {
                context.Response.ContentLength = length;
            }
            await upstream.Content.CopyToAsync(context.Response.Body, context.RequestAborted);
        }
    }
}
