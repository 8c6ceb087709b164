using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using WxkfManager.Registry;
using WxkfManager.Tests.Infrastructure;

namespace WxkfManager.Tests.Apis;

/// <summary>The manager with every read of one puppet from the store counted, by kfId.</summary>
public sealed class CountingRegistryApp : ManagerApp
{
    public ConcurrentDictionary<string, int> FindsByKfId { get; } = new(StringComparer.Ordinal);

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureTestServices(services =>
        {
            var registered = services.Last(d => d.ServiceType == typeof(IPuppetRegistry));
            services.Remove(registered);
            services.AddSingleton<IPuppetRegistry>(sp => new CountingRegistry((IPuppetRegistry)registered.ImplementationFactory!(sp), FindsByKfId));
        });
    }

    private sealed class CountingRegistry(IPuppetRegistry inner, ConcurrentDictionary<string, int> finds) : IPuppetRegistry
    {
        public Task InitializeAsync(CancellationToken cancellationToken) => inner.InitializeAsync(cancellationToken);
        public Task<PuppetRegistration> UpsertAsync(PuppetRegistration registration, CancellationToken cancellationToken) => inner.UpsertAsync(registration, cancellationToken);
        public Task<PuppetRegistration?> MarkOfflineAsync(string kfId, string corpId, DateTime at, CancellationToken cancellationToken) => inner.MarkOfflineAsync(kfId, corpId, at, cancellationToken);
        public Task<PuppetRegistration?> MarkOfflineIfLatestAsync(PuppetRegistration seen, DateTime at, CancellationToken cancellationToken) => inner.MarkOfflineIfLatestAsync(seen, at, cancellationToken);
        public Task<IReadOnlyList<PuppetRegistration>> ListAsync(CancellationToken cancellationToken) => inner.ListAsync(cancellationToken);
        public Task<RegistryChanges> ReadChangesAsync(DateTime? since, CancellationToken cancellationToken) => inner.ReadChangesAsync(since, cancellationToken);
        public Task PingAsync(CancellationToken cancellationToken) => inner.PingAsync(cancellationToken);

        public Task<PuppetRegistration?> FindAsync(string kfId, CancellationToken cancellationToken)
        {
            finds.AddOrUpdate(kfId, 1, (_, n) => n + 1);
            return inner.FindAsync(kfId, cancellationToken);
        }
    }
}

/// <summary>WeCom's callbacks for a kfId nobody registered cost one store read per miss period, and its registration ends that.</summary>
public sealed class UnknownPuppetFloodTests(CountingRegistryApp app) : IClassFixture<CountingRegistryApp>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task SignedCallbacksForAnUnregisteredKfId_ReadItOnce_AndItsRegistrationIsNotRefused()
    {
        var corp = new TestCorp();
        await corp.RegisterPuppetAsync(app.Client, app.Puppets);
        var unknown = TestCorp.NewKfId();

        for (var i = 0; i < 30; i++)
        {
            var callback = corp.Callback(unknown);
            using var response = await app.Client.PostAsync(callback.Path, callback.Content(), Ct);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        Assert.Equal(1, app.FindsByKfId.GetValueOrDefault(unknown));

        // Registered now: its next callback is queued for it, not dead-lettered on the earlier miss (the 30 dead
        // letters are released to it by the registration too, so it is picked out by its sync token).
        var puppet = await corp.RegisterPuppetAsync(app.Client, app.Puppets, unknown);
        var registered = corp.Callback(unknown, syncToken: "after-registering-" + Guid.NewGuid().ToString("N"));
        using (var response = await app.Client.PostAsync(registered.Path, registered.Content(), Ct))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        ReceivedCallback received;
        var receipts = 0;
        do
        {
            received = await puppet.NextAsync();
            receipts++;
        }
        while (received.Token != registered.SyncToken && receipts <= 31);
        Assert.Equal(registered.SyncToken, received.Token);
    }
}
