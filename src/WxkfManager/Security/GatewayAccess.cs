using Microsoft.Extensions.Options;
using WxkfManager.Settings;

namespace WxkfManager.Security;

/// <summary>
/// The unsigned gateway path (/callback/decrypted) is open by default, as in the original; operators close it
/// to their gateway's networks (DECRYPTED_CALLBACK_NETWORKS) and/or a key the gateway sends (MANAGER_GATEWAY_KEY).
/// </summary>
public static class GatewayAccess
{
    public static TBuilder RequireGatewayAccess<TBuilder>(this TBuilder builder, Func<int, string, IResult> refuse)
        where TBuilder : IEndpointConventionBuilder
    {
        builder.AddEndpointFilter(async (context, next) =>
        {
            var http = context.HttpContext;
            var options = http.RequestServices.GetRequiredService<IOptionsMonitor<SecurityOptions>>().CurrentValue;
            if (!ManagementAccess.IsAllowedNetwork(http.Connection.RemoteIpAddress, options.GatewayNetworks))
            {
                return refuse(StatusCodes.Status403Forbidden, "this address may not post decrypted callbacks");
            }
            if (!string.IsNullOrEmpty(options.GatewayKey) && !ManagementAccess.HasKey(http.Request, options.GatewayKey))
            {
                http.Response.Headers.WWWAuthenticate = ManagementAccess.Challenge;
                return refuse(StatusCodes.Status401Unauthorized, "the gateway key (MANAGER_GATEWAY_KEY) is missing or wrong");
            }
            return await next(context);
        });
        return builder;
    }
}
