using System.Text.Json.Nodes;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace WxkfManager.Extensions;

/// <summary>
/// Request and answer examples for each endpoint, by endpoint name, each with its schema (the handlers read
/// bodies themselves, so the generator cannot infer them). Placeholders only, never real secrets.
/// </summary>
public sealed class OpenApiExamples : IOperationFilter
{
    /// <summary>The type each example is an instance of, for its schema; absent: a string (XML, text) or any JSON object.</summary>
    private static readonly Dictionary<string, (Type? Request, Type? Answer)> Schemas = new()
    {
        ["register"] = (typeof(Apis.RegisterRequest), typeof(Apis.ManagerResponse)),
        ["deregister"] = (typeof(Apis.DeregisterRequest), typeof(Apis.ManagerResponse)),
        ["puppetWxkfInfo"] = (null, typeof(Apis.PuppetInfo)),
        ["getToken"] = (null, typeof(GetTokenAnswer)),
        ["decryptedCallback"] = (typeof(Apis.DecryptedCallback), null),
        ["health"] = (null, typeof(Apis.HealthApi.HealthStatus)),
        ["ready"] = (null, typeof(Apis.HealthApi.HealthStatus)),
    };

    private static readonly Dictionary<string, (string? Request, string RequestType, string? Answer, string AnswerType)> Examples = new()
    {
        ["register"] = ("""
            {"kfId":"wkAJ2GCAAAZSfhHCt7IFSvLKtMPxyJTw","kfName":"Support bot","endpoint":"http://10.0.0.5:8080",
             "corpId":"ww1234567890abcdef","corpSecret":"<corp secret>","token":"<callback token>",
             "encodingAESKey":"<43-character EncodingAESKey>"}
            """, "application/json", """{"code":0,"message":"success"}""", "application/json"),
        ["deregister"] = ("""{"kfId":"wkAJ2GCAAAZSfhHCt7IFSvLKtMPxyJTw","corpId":"ww1234567890abcdef"}""", "application/json",
            """{"code":0,"message":"success"}""", "application/json"),
        ["puppetWxkfInfo"] = (null, "", """
            {"kfOpenId":"wkAJ2GCAAAZSfhHCt7IFSvLKtMPxyJTw","name":"Support bot","botEndpoint":"http://10.0.0.5:8080",
             "corpId":"ww1234567890abcdef","online":true,"lastOnlineDate":null,"registeredAt":"2026-11-23T09:00:00Z"}
            """, "application/json"),
        ["getToken"] = (null, "", """{"errcode":0,"errmsg":"ok","access_token":"<access token>","expires_in":7200}""", "application/json"),
        ["wxkfRequestProxy"] = ("""{"cursor":"","token":"<sync token>","limit":1000,"open_kfid":"wkAJ2GCAAAZSfhHCt7IFSvLKtMPxyJTw"}""", "application/json",
            """{"errcode":0,"errmsg":"ok","next_cursor":"4gw7MepFLfgF2VC5npN","has_more":0,"msg_list":[]}""", "application/json"),
        ["callback"] = ("""<xml><ToUserName><![CDATA[ww1234567890abcdef]]></ToUserName><AgentID><![CDATA[1000002]]></AgentID><Encrypt><![CDATA[<Base64 ciphertext>]]></Encrypt></xml>""", "application/xml",
            "success", "text/plain"),
        ["decryptedCallback"] = ("""{"token":"ENCxxxxxxxx","openKfId":"wkAJ2GCAAAZSfhHCt7IFSvLKtMPxyJTw"}""", "application/json", "roger", "text/plain"),
        ["verifyCallbackUrl"] = (null, "", "1616140317555161061", "text/plain"),
        ["health"] = (null, "", """{"status":"alive"}""", "application/json"),
        ["ready"] = (null, "", """{"status":"ready","store":"sqlite","puppets":3}""", "application/json"),
    };

    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        var name = context.ApiDescription.ActionDescriptor.EndpointMetadata.OfType<IEndpointNameMetadata>().FirstOrDefault()?.EndpointName;
        if (name is null || !Examples.TryGetValue(name, out var example))
        {
            return;
        }
        var types = Schemas.GetValueOrDefault(name);
        if (example.Request is not null && !HttpMethods.IsGet(context.ApiDescription.HttpMethod ?? ""))
        {
            var body = operation.RequestBody as OpenApiRequestBody ?? new OpenApiRequestBody();
            body.Required = true;
            body.Content = new Dictionary<string, OpenApiMediaType>
            {
                [example.RequestType] = new OpenApiMediaType
                {
                    Schema = SchemaFor(types.Request, example.RequestType, context),
                    Example = ToNode(example.Request, example.RequestType),
                },
            };
            operation.RequestBody = body;
        }
        else if (HttpMethods.IsGet(context.ApiDescription.HttpMethod ?? ""))
        {
            operation.RequestBody = null;
        }
        if (example.Answer is not null)
        {
            operation.Responses ??= new OpenApiResponses();
            operation.Responses["200"] = new OpenApiResponse
            {
                Description = "OK",
                Content = new Dictionary<string, OpenApiMediaType>
                {
                    [example.AnswerType] = new OpenApiMediaType
                    {
                        Schema = SchemaFor(types.Answer, example.AnswerType, context),
                        Example = ToNode(example.Answer, example.AnswerType),
                    },
                },
            };
        }
    }

    private static IOpenApiSchema SchemaFor(Type? type, string mediaType, OperationFilterContext context) =>
        type is not null ? context.SchemaGenerator.GenerateSchema(type, context.SchemaRepository)
        : mediaType == "application/json" ? new OpenApiSchema { Type = JsonSchemaType.Object, Description = "WeCom's JSON, passed through as is" }
        : new OpenApiSchema { Type = JsonSchemaType.String };

    /// <summary>WeCom's gettoken answer, as getToken passes it on (for the schema only).</summary>
    internal sealed record GetTokenAnswer(
        [property: System.Text.Json.Serialization.JsonPropertyName("errcode")] int ErrCode,
        [property: System.Text.Json.Serialization.JsonPropertyName("errmsg")] string ErrMsg,
        [property: System.Text.Json.Serialization.JsonPropertyName("access_token")] string? AccessToken,
        [property: System.Text.Json.Serialization.JsonPropertyName("expires_in")] int? ExpiresIn);

    private static JsonNode? ToNode(string text, string mediaType) =>
        mediaType == "application/json" ? JsonNode.Parse(text) : JsonValue.Create(text);
}
