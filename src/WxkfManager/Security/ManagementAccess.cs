using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using WxkfManager.Settings;

namespace WxkfManager.Security;

/// <summary>
/// Guards the non-callback endpoints by role. Each role needs the caller's network (MANAGER_ALLOWED_NETWORKS,
/// checked first, for both roles) and then its own key, given as a bearer token or as the password of HTTP
/// Basic credentials (what an unmodified puppet sends when its manager URL is http://user:KEY@manager:3000).
/// Puppet endpoints take the puppet key (MANAGER_API_KEY); operator endpoints take the operator key
/// (MANAGER_OPERATOR_KEY) and never the puppet key, which puppets print in their own logs.
/// </summary>
public static class ManagementAccess
{
    public const string Challenge = "Basic realm=\"wxkf-manager\", Bearer";

    /// <summary>For the puppets' endpoints: the network, then the puppet key when one is set.</summary>
    public static TBuilder RequirePuppetAccess<TBuilder>(this TBuilder builder, Func<int, string, IResult> refuse)
        where TBuilder : IEndpointConventionBuilder =>
        builder.Require(refuse, static options => options.HasManagementKey
            ? new RoleKey(options.ManagementKey, "the puppet key (MANAGER_API_KEY) is missing or wrong (Bearer, or Basic with the key as password)")
            : RoleKey.Open);

    /// <summary>
    /// For operator endpoints (/operator, /metrics, the console): the network, then the operator key. With only
    /// the puppet key set they are closed, so a puppet's key never opens them; with no key at all they are open.
    /// </summary>
    public static TBuilder RequireOperatorAccess<TBuilder>(this TBuilder builder, Func<int, string, IResult>? refuse = null)
        where TBuilder : IEndpointConventionBuilder =>
        builder.Require(
            refuse ?? ((status, message) => TypedResults.Problem(detail: message, statusCode: status)),
            static options => options.HasOperatorKey
                ? new RoleKey(options.OperatorKey, "the operator key (MANAGER_OPERATOR_KEY) is missing or wrong (Bearer, or Basic with the key as password)")
                : options.HasManagementKey
                    ? new RoleKey(null, "operator endpoints are closed: set MANAGER_OPERATOR_KEY (MANAGER_API_KEY, the puppets' key, does not open them)")
                    : RoleKey.Open);

    /// <summary>Kept for code written before the roles: the stricter, operator, access.</summary>
    public static TBuilder RequireManagementAccess<TBuilder>(this TBuilder builder, Func<int, string, IResult> refuse)
        where TBuilder : IEndpointConventionBuilder => builder.RequireOperatorAccess(refuse);

    /// <summary>The key a role needs: none (Open), a key, or, with a null key, a role that is closed.</summary>
    private sealed record RoleKey(string? Key, string Refusal)
    {
        public static readonly RoleKey Open = new(null, "");

        public bool IsOpen => ReferenceEquals(this, Open);
    }

    private static TBuilder Require<TBuilder>(this TBuilder builder, Func<int, string, IResult> refuse, Func<SecurityOptions, RoleKey> keyOf)
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
            var role = keyOf(options);
            if (role.IsOpen)
            {
                return await next(context);
            }
            if (role.Key is null)
            {
                return refuse(StatusCodes.Status403Forbidden, role.Refusal);
            }
            if (!HasKey(http.Request, role.Key))
            {
                http.Response.Headers.WWWAuthenticate = Challenge;
                return refuse(StatusCodes.Status401Unauthorized, role.Refusal);
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
