using System.Net;
using System.Net.Sockets;

namespace WxkfManager.LoadTest;

/// <summary>
/// Broken puppets: each listens on a port of its own (so each is a different endpoint), accepts every
/// connection, reads and discards what arrives, and never answers. Sockets stay open until disposal.
/// </summary>
public sealed class BlackHoles : IAsyncDisposable
{
    private readonly List<TcpListener> _listeners = [];
    private readonly List<Socket> _accepted = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _loops = [];

    public IReadOnlyList<string> BaseUrls { get; private set; } = [];

    public int Connections { get { lock (_accepted) { return _accepted.Count; } } }

    public static BlackHoles Start(int count)
    {
        var holes = new BlackHoles();
        var urls = new List<string>(count);
        for (var i = 0; i < count; i++)
        {
            var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start(backlog: 512);
            holes._listeners.Add(listener);
            urls.Add($"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}");
            holes._loops.Add(Task.Run(() => holes.AcceptAsync(listener)));
        }
        holes.BaseUrls = urls;
        return holes;
    }

    private async Task AcceptAsync(TcpListener listener)
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await listener.AcceptSocketAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }
            lock (_accepted)
            {
                _accepted.Add(socket);
            }
            _ = DiscardAsync(socket);
        }
    }

    private async Task DiscardAsync(Socket socket)
    {
        var buffer = new byte[4096];
        try
        {
            while (await socket.ReceiveAsync(buffer, SocketFlags.None, _stop.Token) > 0)
            {
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        foreach (var listener in _listeners)
        {
            listener.Stop();
        }
        await Task.WhenAll(_loops);
        lock (_accepted)
        {
            foreach (var socket in _accepted)
            {
                socket.Dispose();
            }
        }
        _stop.Dispose();
    }
}
