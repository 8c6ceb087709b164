using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using WxkfManager.Options;

namespace WxkfManager.Security;

/// <summary>
/// Guards management and operator endpoints: the caller's network, then the key, given as a bearer token
/// or as the password of HTTP Basic credentials (what an unmodified puppet sends when its manager URL is
/// http://user:KEY@manager:3000).
/// </summary>
public static class ManagementAccess
{
    public const string Challenge = "Basic realm=\"wxkf-manager\", Bearer";

    public static TBuilder RequireManagementAccess<TBuilder>(this TBuilder builder, Func<int, string, IResult> refuse)
        where TBuilder : IEndpointConventionBuilder
    {
        builder.AddEndpointFilter(async (context, next) =>
        {
            var http = context.HttpContext;
            var options = http.RequestServices.GetRequiredService<IOptionsMonitor<SecurityOptions>>().CurrentValue;
            if (!IsAllowedNetwork(http.Connection.RemoteIpAddress, options.ManagementNetworks))
            {
                return refuse(StatusCodes.Status403Forbidden, "this address may not use the management API");
            }
            if (options.HasManagementKey && !HasKey(http.Request, options.ManagementKey!))
            {
                http.Response.Headers.WWWAuthenticate = Challenge;
                return refuse(StatusCodes.Status401Unauthorized, "the management API key is missing or wrong (Bearer, or Basic with the key as password)");
            }
            return await next(context);
        });
        return builder;
    }

    public static bool IsAllowedNetwork(IPAddress? address, IReadOnlyCollection<string> networks)
    {
        if (networks.Count == 0)
        {
            return true;
        }
        if (address is null)
        {
            return false;
        }
        var candidate = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
        return networks.Any(network => IPNetwork.Parse(network).Contains(candidate));
    }

    public static bool HasKey(HttpRequest request, string key)
    {
        var header = request.Headers.Authorization.ToString();
        string? presented = null;
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            presented = header["Bearer ".Length..].Trim();
        }
        else if (header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            presented = BasicPassword(header["Basic ".Length..].Trim());
        }
        return presented is not null && KeysEqual(presented, key);
    }

    /// <summary>Compares hashes, so the time taken says nothing about the key, not even its length.</summary>
    public static bool KeysEqual(string presented, string key) =>
        CryptographicOperations.FixedTimeEquals(
            SHA256.HashData(Encoding.UTF8.GetBytes(presented)),
            SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    private static string? BasicPassword(string encoded)
    {
        Span<byte> buffer = stackalloc byte[512];
        if (!Convert.TryFromBase64String(encoded, buffer, out var written))
        {
            return null;
        }
        var credentials = Encoding.UTF8.GetString(buffer[..written]);
        var colon = credentials.IndexOf(':');
        return colon < 0 ? null : Uri.UnescapeDataString(credentials[(colon + 1)..]);
    }
}
