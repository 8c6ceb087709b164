namespace WxkfManager.Security;

/// <summary>The primary handler of every client that calls an address a puppet gave.</summary>
public static class PuppetHttpHandler
{
    public static SocketsHttpHandler Create(IServiceProvider services) => new()
    {
        // A redirect would take the request somewhere nobody registered; it is a failed attempt instead.
        AllowAutoRedirect = false,
        // A proxy would make the connect-time check see the proxy's address, not the puppet's.
        UseProxy = false,
        ConnectCallback = services.GetRequiredService<PuppetConnectPolicy>().ConnectAsync,
        PooledConnectionLifetime = TimeSpan.FromMinutes(2),
    };
}
