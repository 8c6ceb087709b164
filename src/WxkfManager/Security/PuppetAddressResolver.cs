using System.Net;

namespace WxkfManager.Security;

/// <summary>Resolves a puppet's host name at connect time; replaceable so tests can make a name move.</summary>
public interface IPuppetAddressResolver
{
    Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken);
}

public sealed class DnsPuppetAddressResolver : IPuppetAddressResolver
{
    public Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken) =>
        Dns.GetHostAddressesAsync(host, cancellationToken);
}
