using Microsoft.Extensions.Options;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using WxkfManager.Settings;
using WxkfManager.Registry;

namespace WxkfManager.Tests.Registry;

/// <summary>Repeated ambiguous deregisters of one puppet keep one probe waiting, not one each.</summary>
public sealed class HandOverProbeTests : IDisposable
{
    private static readonly TimeSpan Delay = TimeSpan.FromSeconds(3);

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly CountingHandler _endpoints = new();

    private HandOverProbe NewProbe()
    {
        var store = new FakeRegistry();
        return new HandOverProbe(
            new Clients(_endpoints),
            store,
            new PuppetDirectory(store, _time, NullLogger<PuppetDirectory>.Instance),
            _time,
            Options.Create(new RegistrationOptions { HandOverProbeDelay = Delay }),
            new Lifetime(),
            NullLogger<HandOverProbe>.Instance);
    }

    [Fact]
    public async Task ManyDeregistersOfOnePuppet_WaitAsOneProbe_ThatChecksTheNewestRegistration()
    {
        var probe = NewProbe();
        var first = Registrations.New();
        for (var i = 0; i < 1000; i++)
        {
            probe.Schedule(first with { Endpoint = $"http://10.0.0.1:{1000 + i}" });
        }
        var other = Registrations.New();
        probe.Schedule(other);
        Assert.Equal(2, probe.Waiting);

        _time.Advance(Delay);
        await WaitForAsync(() => _endpoints.Requests.Count == 2);

        Assert.Equal(0, probe.Waiting);
        Assert.Equal(
            new[] { "http://10.0.0.1:1999/", new Uri(other.Endpoint).ToString() }.Order(),
            _endpoints.Requests.Select(u => u.ToString()).Order());
    }

    [Fact]
    public async Task ADeregisterAfterTheProbeWent_WaitsForTheNextOne()
    {
        var probe = NewProbe();
        var registration = Registrations.New();
        probe.Schedule(registration);
        _time.Advance(Delay);
        await WaitForAsync(() => _endpoints.Requests.Count == 1);

        probe.Schedule(registration);
        Assert.Equal(1, probe.Waiting);
        _time.Advance(Delay);
        await WaitForAsync(() => _endpoints.Requests.Count == 2);
        Assert.Equal(0, probe.Waiting);
    }

    // The probe runs on the fake clock's timer callback; this only waits for its continuation, never for time.
    private static async Task WaitForAsync(Func<bool> condition)
    {
        for (var i = 0; i < 500 && !condition(); i++)
        {
            await Task.Yield();
            await Task.Delay(10, TestContext.Current.CancellationToken);
        }
        Assert.True(condition());
    }

    private sealed class CountingHandler : HttpMessageHandler
    {
        public System.Collections.Concurrent.ConcurrentQueue<Uri> Requests { get; } = new();

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Requests.Enqueue(request.RequestUri!);
            return Task.FromResult(new HttpResponseMessage(System.Net.HttpStatusCode.OK));
        }
    }

    private sealed class Clients(HttpMessageHandler handler) : IHttpClientFactory
    {
        public HttpClient CreateClient(string name) => new(handler, disposeHandler: false);
    }

    private sealed class Lifetime : IHostApplicationLifetime
    {
        public CancellationToken ApplicationStarted => CancellationToken.None;
        public CancellationToken ApplicationStopping => CancellationToken.None;
        public CancellationToken ApplicationStopped => CancellationToken.None;
        public void StopApplication() { }
    }

    public void Dispose() => _endpoints.Dispose();
}
