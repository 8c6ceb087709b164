using System.Net.Sockets;
using System.Text;

namespace WxkfManager.Tests.Infrastructure;

/// <summary>Sends a request line exactly as written: HttpClient would normalise away the dot segments under test.</summary>
public static class RawHttp
{
    public static async Task<(int Status, string Response)> GetAsync(Uri server, string rawTarget, CancellationToken cancellationToken)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(server.Host, server.Port, cancellationToken);
        await using var stream = client.GetStream();
        var request = $"GET {rawTarget} HTTP/1.1\r\nHost: {server.Authority}\r\nConnection: close\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request), cancellationToken);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var response = await reader.ReadToEndAsync(cancellationToken);
        var status = int.Parse(response.Split(' ', 3)[1]);
        return (status, response);
    }
}
