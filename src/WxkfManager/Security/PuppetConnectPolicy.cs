using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;
using WxkfManager.Settings;

namespace WxkfManager.Security;

/// <summary>The connection to a puppet was not made: the address it resolved to is refused.</summary>
public sealed class PuppetAddressRefusedException(string reason) : Exception(reason);

/// <summary>
/// Decides, on the address a puppet's name resolved to at the moment of connecting, whether the manager may
/// connect. Checking there (not only at registration) means neither a redirect, a DNS change nor rebinding
/// can take a callback somewhere refused. Refused always: link-local (cloud metadata lives there),
/// unspecified, multicast, broadcast, and the manager itself. Private and loopback ranges are allowed (puppets
/// live there) unless Security:AllowedPuppetHosts narrows where puppets may be.
/// </summary>
public sealed class PuppetConnectPolicy(
    IPuppetAddressResolver resolver, IOptionsMonitor<SecurityOptions> options, IServiceProvider services)
{
    // Metadata services that are not in the link-local ranges (Alibaba Cloud's is 100.100.100.200).
    private static readonly IPAddress[] MetadataAddresses =
        [IPAddress.Parse("100.100.100.200"), IPAddress.Parse("fd00:ec2::254")];

    private static readonly IPNetwork LinkLocalV4 = IPNetwork.Parse("169.254.0.0/16");
    private static readonly IPNetwork LinkLocalV6 = IPNetwork.Parse("fe80::/10");
    private static readonly IPNetwork MulticastV4 = IPNetwork.Parse("224.0.0.0/4");
    private static readonly IPNetwork UnspecifiedV4 = IPNetwork.Parse("0.0.0.0/8");

    private int[]? _ownPorts;

    /// <summary>The reason an address is refused for a puppet's host, or null when the manager may connect.</summary>
    public string? Refusal(string host, IPAddress address, int port)
    {
        var candidate = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
        if (candidate.Equals(IPAddress.Any) || candidate.Equals(IPAddress.IPv6Any) || UnspecifiedV4.Contains(candidate))
        {
            return $"{candidate} is unspecified";
        }
        if (LinkLocalV4.Contains(candidate) || LinkLocalV6.Contains(candidate) || candidate.IsIPv6LinkLocal)
        {
            return $"{candidate} is link-local (cloud metadata lives there)";
        }
        if (MetadataAddresses.Contains(candidate))
        {
            return $"{candidate} is a cloud metadata address";
        }
        if (MulticastV4.Contains(candidate) || candidate.IsIPv6Multicast || candidate.Equals(IPAddress.Broadcast))
        {
            return $"{candidate} is multicast or broadcast";
        }
        if (OwnPorts().Contains(port) && IsThisHost(candidate))
        {
            return $"{candidate}:{port} is this manager";
        }
        var allowed = options.CurrentValue.AllowedPuppetHosts;
        if (allowed.Count > 0 && !IsAllowed(host, candidate, allowed))
        {
            return $"{candidate} is not in the allowed puppet hosts";
        }
        return null;
    }

    /// <summary>SocketsHttpHandler.ConnectCallback: resolve, keep the allowed addresses, connect to the first that answers.</summary>
    public async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var endpoint = context.DnsEndPoint;
        var addresses = IPAddress.TryParse(endpoint.Host.Trim('[', ']'), out var literal)
            ? [literal]
            : await resolver.ResolveAsync(endpoint.Host, cancellationToken);
        string? refusal = null;
        Exception? lastFailure = null;
        foreach (var address in addresses)
        {
            if (Refusal(endpoint.Host, address, endpoint.Port) is { } reason)
            {
                refusal ??= reason;
                continue;
            }
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(new IPEndPoint(address, endpoint.Port), cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch (Exception exception) when (exception is SocketException or OperationCanceledException)
            {
                socket.Dispose();
                lastFailure = exception;
                if (exception is OperationCanceledException)
                {
                    throw;
                }
            }
        }
        if (lastFailure is not null)
        {
            throw lastFailure;
        }
        throw new PuppetAddressRefusedException(
            $"refused to connect to {endpoint.Host}:{endpoint.Port}: {refusal ?? "it resolved to no address"}");
    }

    private static bool IsAllowed(string host, IPAddress address, IReadOnlyCollection<string> allowed) =>
        allowed.Any(entry =>
            IPNetwork.TryParse(entry, out var network)
                ? network.Contains(address)
                // A name the operator listed is trusted to resolve where it should; the fixed refusals above still hold.
                : string.Equals(entry, host, StringComparison.OrdinalIgnoreCase));

    private static bool IsThisHost(IPAddress address)
    {
        if (IPAddress.IsLoopback(address))
        {
            return true;
        }
        try
        {
            return NetworkInterface.GetAllNetworkInterfaces()
                .SelectMany(n => n.GetIPProperties().UnicastAddresses)
                .Any(u => u.Address.Equals(address));
        }
        catch (NetworkInformationException)
        {
            return false;
        }
    }

    /// <summary>The ports this manager listens on, read once the server has started (port 0 binds late).</summary>
    private int[] OwnPorts()
    {
        if (_ownPorts is { } known)
        {
            return known;
        }
        var addresses = services.GetService<IServer>()?.Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        var ports = addresses
            .Select(a => Uri.TryCreate(a.Replace("://+", "://localhost").Replace("://*", "://localhost"), UriKind.Absolute, out var uri) ? uri.Port : 0)
            .Where(p => p > 0)
            .ToArray();
        if (ports.Length > 0)
        {
            _ownPorts = ports;
        }
        return ports;
    }
}
