using System.Diagnostics;

namespace WxkfManager.LoadTest;

/// <summary>One pre-built callback; <paramref name="Key"/> is its msg_signature, by which the fleet records its arrival.</summary>
public sealed record PreparedRequest(string PathAndQuery, byte[] Body, string Key);

/// <summary>
/// What one load phase saw. <see cref="SentAt"/> holds each request's send time (Stopwatch timestamp, 0 when
/// never sent) and <see cref="AckedAt"/> its 2xx answer time (0 when not answered 2xx), by request index.
/// </summary>
public sealed record LoadResult(int Sent, int Acked, int Failed, double Seconds, double[] LatenciesMs, long Started, long[] SentAt, long[] AckedAt)
{
    public double AckedPerSecond => Acked / Seconds;

    public double Percentile(double p) => Stats.Percentile(LatenciesMs, p);

    public double Max => LatenciesMs.Length == 0 ? double.NaN : LatenciesMs[^1];
}

/// <summary>
/// Sends prepared requests over a fixed number of connections, either as fast as they are answered
/// (rate 0) or paced to a target rate, and records each request's latency. Latency is measured from
/// the moment a request is actually sent; a paced request that is sent late because all connections
/// were busy is counted in <see cref="LoadResult.Sent"/> but its wait is not in its latency.
/// </summary>
public static class LoadGenerator
{
    public static async Task<LoadResult> RunAsync(Uri target, IReadOnlyList<PreparedRequest> requests, int connections, int rate, TimeSpan duration)
    {
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = connections, PooledConnectionLifetime = TimeSpan.FromMinutes(5) };
        using var client = new HttpClient(handler) { BaseAddress = target, Timeout = TimeSpan.FromSeconds(10) };
        var latencies = new double[requests.Count];
        var sentAt = new long[requests.Count];
        var ackedAt = new long[requests.Count];
        var next = -1;
        var acked = 0;
        var failed = 0;
        var started = Stopwatch.GetTimestamp();
        var ticksPerRequest = rate > 0 ? Stopwatch.Frequency / (double)rate : 0;

        async Task WorkerAsync()
        {
            while (true)
            {
                var i = Interlocked.Increment(ref next);
                if (i >= requests.Count || Stopwatch.GetElapsedTime(started) > duration)
                {
                    return;
                }
                if (rate > 0)
                {
                    // Open-loop pacing: request i is due at i / rate seconds after the start.
                    var due = started + (long)(i * ticksPerRequest);
                    var wait = due - Stopwatch.GetTimestamp();
                    if (wait > 0)
                    {
                        await Task.Delay(TimeSpan.FromSeconds(wait / (double)Stopwatch.Frequency));
                    }
                }
                var request = requests[i];
                var sent = Stopwatch.GetTimestamp();
                sentAt[i] = sent;
                try
                {
                    using var content = new ByteArrayContent(request.Body);
                    content.Headers.TryAddWithoutValidation("Content-Type", "text/xml");
                    using var response = await client.PostAsync(request.PathAndQuery, content);
                    var answered = Stopwatch.GetTimestamp();
                    latencies[i] = Stopwatch.GetElapsedTime(sent, answered).TotalMilliseconds;
                    if (response.IsSuccessStatusCode)
                    {
                        ackedAt[i] = answered;
                        Interlocked.Increment(ref acked);
                    }
                    else
                    {
                        Interlocked.Increment(ref failed);
                    }
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                    latencies[i] = Stopwatch.GetElapsedTime(sent).TotalMilliseconds;
                    Interlocked.Increment(ref failed);
                }
            }
        }

        await Task.WhenAll(Enumerable.Range(0, connections).Select(_ => Task.Run(WorkerAsync)));
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        var measured = latencies.Where(l => l > 0).Order().ToArray();
        return new LoadResult(sentAt.Count(t => t != 0), acked, failed, seconds, measured, started, sentAt, ackedAt);
    }
}
