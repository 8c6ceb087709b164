using System.Text.Json.Nodes;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace WxkfManager.Extensions;

/// <summary>Request and answer examples for each endpoint, by endpoint name. Placeholders only, never real secrets.</summary>
public sealed class OpenApiExamples : IOperationFilter
{
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
        if (example.Request is not null)
        {
            var body = operation.RequestBody as OpenApiRequestBody ?? new OpenApiRequestBody();
            body.Content ??= new Dictionary<string, OpenApiMediaType>();
            body.Content[example.RequestType] = new OpenApiMediaType { Example = ToNode(example.Request, example.RequestType) };
            operation.RequestBody = body;
        }
        if (example.Answer is not null)
        {
            operation.Responses ??= new OpenApiResponses();
            operation.Responses["200"] = new OpenApiResponse
            {
                Description = "OK",
                Content = new Dictionary<string, OpenApiMediaType>
                {
                    [example.AnswerType] = new OpenApiMediaType { Example = ToNode(example.Answer, example.AnswerType) },
                },
            };
        }
    }

    private static JsonNode? ToNode(string text, string mediaType) =>
        mediaType == "application/json" ? JsonNode.Parse(text) : JsonValue.Create(text);
}
