using Microsoft.AspNetCore.Mvc;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace WxkfManager.Extensions;

/// <summary>
/// What the generator cannot see in handlers that read their own input: unique operation ids for endpoints
/// mapped on several methods, the management key (so Swagger UI's Authorize button works), required query
/// parameters, and every refusal an endpoint answers, with its body's schema.
/// </summary>
public sealed class OpenApiConventions : IOperationFilter
{
    public const string ManagementKeyScheme = "managementKey";

    private enum Shape { Problem, Manager, WeComError, Health, Empty }

    private static readonly Dictionary<string, string[]> RequiredQuery = new()
    {
        ["verifyCallbackUrl"] = ["msg_signature", "timestamp", "nonce", "echostr"],
        ["callback"] = ["msg_signature", "timestamp", "nonce"],
        ["getToken"] = ["corpid", "corpsecret"],
    };

    private static readonly Dictionary<string, (int Status, string Why, Shape Shape)[]> Refusals = new()
    {
        ["verifyCallbackUrl"] = [(400, "A query parameter is missing, or echostr cannot be decrypted", Shape.Problem),
            (403, "msg_signature matches no app registered for the corp", Shape.Problem), (404, "No puppet is registered for the corp", Shape.Problem),
            (429, "Too many bad signatures from this address", Shape.Problem), (503, "The store is not ready; WeCom retries", Shape.Problem)],
        ["callback"] = [(400, "Missing query parameter, body not callback XML, DTD, bad ciphertext or receive id", Shape.Problem),
            (403, "msg_signature matches no app registered for the corp", Shape.Problem), (404, "No puppet is registered for the corp", Shape.Problem),
            (413, "Body over Callback__MaxBodyBytes", Shape.Problem), (429, "Too many bad signatures from this address", Shape.Problem),
            (503, "The store cannot take the event now; WeCom resends", Shape.Problem)],
        ["decryptedCallback"] = [(400, "Body is not JSON with token and openKfId", Shape.Problem),
            (404, "No such puppet is registered in the corp", Shape.Problem), (413, "Body over 16 KiB", Shape.Problem),
            (503, "The store cannot take the event now; retry", Shape.Problem)],
        ["register"] = [(400, "Every problem with the registration, listed", Shape.Manager), (413, "Body over 16 KiB", Shape.Manager),
            (503, "The store is unavailable; retry", Shape.Manager)],
        ["deregister"] = [(400, "Body is not JSON with kfId and corpId", Shape.Manager), (404, "No such puppet in the corp", Shape.Manager),
            (503, "The store is unavailable; retry", Shape.Manager)],
        ["puppetWxkfInfo"] = [(404, "No such puppet", Shape.Manager)],
        ["getToken"] = [(400, "corpid (41002) or corpsecret (41004) missing", Shape.WeComError),
            (403, "corpsecret differs from the one the corp's puppets registered (40001)", Shape.WeComError),
            (502, "The token service is unreachable (errcode 504)", Shape.WeComError)],
        ["wxkfRequestProxy"] = [(400, "path is not a relative WeCom API path ('..', absolute URL, empty segment)", Shape.WeComError),
            (502, "The WeCom API is unreachable", Shape.WeComError)],
        ["ready"] = [(503, "The store does not answer or cannot be written; reason says why", Shape.Health)],
        ["deadLetters"] = [(400, "limit outside 1..1000", Shape.Problem)],
        ["replayDeadLetter"] = [(404, "No such dead letter", Shape.Problem),
            (409, "Its puppet is deregistered or unknown: replaying would only dead-letter it again", Shape.Problem)],
    };

    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        var metadata = context.ApiDescription.ActionDescriptor.EndpointMetadata;
        var name = metadata.OfType<IEndpointNameMetadata>().FirstOrDefault()?.EndpointName;
        if (name is null)
        {
            return;
        }
        var method = context.ApiDescription.HttpMethod ?? "GET";
        // One handler on GET and POST: each needs its own operationId.
        var methods = metadata.OfType<IHttpMethodMetadata>().FirstOrDefault()?.HttpMethods ?? [];
        operation.OperationId = methods.Count > 1 && !HttpMethods.IsPost(method) ? name + Capitalized(method) : name;

        foreach (var parameter in operation.Parameters?.OfType<OpenApiParameter>() ?? [])
        {
            if (parameter.In == ParameterLocation.Query && RequiredQuery.GetValueOrDefault(name)?.Contains(parameter.Name) == true)
            {
                parameter.Required = true;
            }
            if (name == "wxkfRequestProxy" && parameter.Name == "path")
            {
                parameter.Description = "A WeCom API path such as kf/sync_msg. Swagger UI sends '/' as %2F, which the manager accepts as '/'.";
            }
        }

        operation.Responses ??= new OpenApiResponses();
        foreach (var (status, why, shape) in Refusals.GetValueOrDefault(name) ?? [])
        {
            operation.Responses[status.ToString(System.Globalization.CultureInfo.InvariantCulture)] = Response(why, shape, context);
        }
        var path = context.ApiDescription.RelativePath ?? "";
        if (path.StartsWith("puppetWxkfManager", StringComparison.Ordinal) || path.StartsWith("operator", StringComparison.Ordinal))
        {
            var shape = path.StartsWith("operator", StringComparison.Ordinal) ? Shape.Problem : Shape.Manager;
            operation.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(ManagementKeyScheme, context.Document)] = [] }];
            operation.Responses["401"] = Response("MANAGER_API_KEY is set and the request does not carry it", shape, context);
            operation.Responses.TryAdd("403", Response("The caller's address is outside MANAGER_ALLOWED_NETWORKS", shape, context));
            operation.Responses["429"] = Response("Over Security__ManagementRequestsPerMinute; see Retry-After", Shape.Empty, context);
        }
    }

    private static OpenApiResponse Response(string description, Shape shape, OperationFilterContext context)
    {
        var (type, mediaType) = shape switch
        {
            Shape.Problem => (typeof(ProblemDetails), "application/problem+json"),
            Shape.Manager => (typeof(Apis.ManagerResponse), "application/json"),
            Shape.WeComError => (typeof(Apis.TokenErrorResponse), "application/json"),
            Shape.Health => (typeof(Apis.HealthApi.HealthStatus), "application/json"),
            _ => ((Type?)null, ""),
        };
        var response = new OpenApiResponse { Description = description };
        if (type is not null)
        {
            response.Content = new Dictionary<string, OpenApiMediaType>
            {
                [mediaType] = new OpenApiMediaType { Schema = context.SchemaGenerator.GenerateSchema(type, context.SchemaRepository) },
            };
        }
        return response;
    }

    private static string Capitalized(string method) => method[..1].ToUpperInvariant() + method[1..].ToLowerInvariant();
}
