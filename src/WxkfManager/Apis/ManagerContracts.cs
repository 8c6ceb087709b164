using System.Text.Json.Serialization;
using WxkfManager.Delivery;
using WxkfManager.Registry;

namespace WxkfManager.Apis;

/// <summary>The original service's answer to register and deregister: code 0 is success.</summary>
public sealed record ManagerResponse(
    [property: JsonPropertyName("code")] int Code,
    [property: JsonPropertyName("message")] string Message)
{
    public static readonly ManagerResponse Success = new(0, "success");
}

/// <summary>WeCom's gettoken error shape, used when the manager itself cannot get an answer.</summary>
public sealed record TokenErrorResponse(
    [property: JsonPropertyName("errcode")] int ErrCode,
    [property: JsonPropertyName("errmsg")] string ErrMsg);

public sealed record RegisterRequest(
    [property: JsonPropertyName("kfId")] string? KfId,
    [property: JsonPropertyName("kfName")] string? KfName,
    [property: JsonPropertyName("endpoint")] string? Endpoint,
    [property: JsonPropertyName("corpId")] string? CorpId,
    [property: JsonPropertyName("corpSecret")] string? CorpSecret,
    [property: JsonPropertyName("token")] string? Token,
    [property: JsonPropertyName("encodingAESKey")] string? EncodingAesKey)
{
    // The generated ToString would print the secrets.
    public override string ToString() => $"RegisterRequest {{ KfId = {KfId}, CorpId = {CorpId}, Endpoint = {Endpoint} }}";
}

public sealed record DeregisterRequest(
    [property: JsonPropertyName("kfId")] string? KfId,
    [property: JsonPropertyName("corpId")] string? CorpId);

/// <summary>A registration as puppetWxkfInfo shows it: the original's field names, without corpSecret, token or encodingAESKey.</summary>
public sealed record PuppetInfo(
    [property: JsonPropertyName("kfOpenId")] string KfOpenId,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("botEndpoint")] string BotEndpoint,
    [property: JsonPropertyName("corpId")] string CorpId,
    [property: JsonPropertyName("online")] bool Online,
    [property: JsonPropertyName("lastOnlineDate")] DateTime? LastOnlineDate,
    [property: JsonPropertyName("registeredAt")] DateTime? RegisteredAt,
    [property: JsonPropertyName("delivery")] PuppetDeliveryState Delivery)
{
    public static PuppetInfo From(PuppetRegistration registration, PuppetDeliveryState delivery) => new(
        registration.KfId, registration.KfName, registration.Endpoint, registration.CorpId,
        registration.Online, registration.LastOnlineDate, registration.RegisteredAt, delivery);
}

/// <summary>The decrypted event a gateway posts: the sync token and the customer-service account it is for.</summary>
public sealed record DecryptedCallback(
    [property: JsonPropertyName("token")] string? Token,
    [property: JsonPropertyName("openKfId")] string? OpenKfId);
