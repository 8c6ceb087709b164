using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using WxkfManager.Security;

namespace WxkfManager.Tests.Security;

/// <summary>Names resolve through a table the test changes, as DNS can change between registration and delivery.</summary>
public sealed class TableResolver : IPuppetAddressResolver
{
    public ConcurrentDictionary<string, IPAddress[]> Names { get; } = new(StringComparer.OrdinalIgnoreCase);

    public Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken) =>
        Task.FromResult(Names.TryGetValue(host, out var addresses) ? addresses : []);
}

/// <summary>
/// The manager as the attacker found it: puppets allowed only at 127.0.0.1, with a refused service
/// listening at 127.0.0.2 and a resolver the test controls.
/// </summary>
public sealed class NarrowedManagerApp : ManagerApp
{
    public NarrowedManagerApp() => With("Security:AllowedPuppetHosts:0", "127.0.0.1/32")
        .With("Security:AllowedPuppetHosts:1", "puppet-a.test")
        .With("Security:AllowedPuppetHosts:2", "puppet-b.test");

    public TableResolver Resolver { get; } = new();

    /// <summary>What must never be reached: an internal admin service on a refused address.</summary>
    public StubServer Refused { get; private set; } = null!;

    public ConcurrentQueue<string> RefusedHits { get; } = new();

    protected override async Task BeforeStartAsync()
    {
        Refused = await StubServer.StartAsync(app => app.Map("/{**rest}", (HttpRequest request) =>
        {
            RefusedHits.Enqueue($"{request.Method} {request.Path}");
            return Results.Text("internal admin");
        }), listenOn: IPAddress.Parse("127.0.0.2"));
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureTestServices(services => services.AddSingleton<IPuppetAddressResolver>(Resolver));
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        await Refused.DisposeAsync();
    }
}

public sealed class PuppetConnectionTests(NarrowedManagerApp app) : IClassFixture<NarrowedManagerApp>
{
    [Theory]
    [InlineData(307)]
    [InlineData(302)]
    public async Task ARedirectFromAPuppet_TowardARefusedAddress_IsNotFollowed_AndTheAttemptFailsNamingIt(int status)
    {
        var attempts = 0;
        var location = new Uri(app.Refused.BaseAddress, "internal-admin").ToString();
        await using var redirecting = await StubServer.StartAsync(web => web.MapPost("/callback", () =>
        {
            Interlocked.Increment(ref attempts);
            return Results.Redirect(location, permanent: false, preserveMethod: status == 307);
        }));
        var corp = new TestCorp();
        var kfId = TestCorp.NewKfId();
        (await app.Client.PostAsJsonAsync("/puppetWxkfManager/register", corp.Registration(kfId, redirecting.BaseAddress.ToString()), Ct))
            .EnsureSuccessStatusCode();
        var callback = corp.Callback(kfId);

        using var response = await app.Client.PostAsync(callback.Path, callback.Content(), Ct);

        Assert.Equal("success", await response.Content.ReadAsStringAsync(Ct));
        var lastError = await LastErrorAsync(kfId);
        Assert.Contains($"HTTP {status}", lastError);
        Assert.Contains("redirect", lastError);
        Assert.Contains("127.0.0.2", lastError);
        Assert.True(Volatile.Read(ref attempts) >= 1);
        Assert.Empty(app.RefusedHits);
    }

    [Fact]
    public async Task TheWeComProxy_PassesARedirectBack_WithoutFollowingIt()
    {
        // A client that does not follow redirects itself, to see the manager's own answer.
        using var client = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { BaseAddress = app.Client.BaseAddress };

        using var response = await client.GetAsync("/puppetWxkfManager/wxkfRequestProxy/redirect", Ct);

        Assert.Equal(HttpStatusCode.Found, response.StatusCode);
        Assert.Equal(0, app.WeCom.RedirectedHits);
    }

    [Fact]
    public async Task ANameThatResolvesToARefusedAddressAfterRegistration_IsRefusedAtConnectTime()
    {
        var corp = new TestCorp();
        var moved = app.Puppets.Add(TestCorp.NewKfId(), corp.CorpId, corp.Token, corp.EncodingAesKey);
        var control = app.Puppets.Add(TestCorp.NewKfId(), corp.CorpId, corp.Token, corp.EncodingAesKey);
        app.Resolver.Names["puppet-a.test"] = [IPAddress.Loopback];
        app.Resolver.Names["puppet-b.test"] = [IPAddress.Loopback];
        await RegisterAsync(corp, moved.KfId, moved.Endpoint.Replace("127.0.0.1", "puppet-a.test"));
        await RegisterAsync(corp, control.KfId, control.Endpoint.Replace("127.0.0.1", "puppet-b.test"));

        // The name moves to the cloud metadata address after it was registered and allowed.
        app.Resolver.Names["puppet-a.test"] = [IPAddress.Parse("169.254.169.254")];
        var toMoved = corp.Callback(moved.KfId);
        var toControl = corp.Callback(control.KfId, syncToken: "control");
        (await app.Client.PostAsync(toMoved.Path, toMoved.Content(), Ct)).EnsureSuccessStatusCode();
        (await app.Client.PostAsync(toControl.Path, toControl.Content(), Ct)).EnsureSuccessStatusCode();

        // The control puppet, reached through the same resolver, proves names are resolved there.
        Assert.Equal("control", (await control.NextAsync()).Token);
        var lastError = await LastErrorAsync(moved.KfId);
        Assert.Contains("refused to connect to puppet-a.test", lastError);
        Assert.Contains("169.254.169.254 is link-local", lastError);
        Assert.Equal(0, moved.Attempts);
    }

    [Theory]
    [InlineData("169.254.169.254", "link-local")]
    [InlineData("169.254.0.1", "link-local")]
    [InlineData("fe80::1", "link-local")]
    [InlineData("100.100.100.200", "metadata")]
    [InlineData("fd00:ec2::254", "metadata")]
    [InlineData("0.0.0.0", "unspecified")]
    [InlineData("::", "unspecified")]
    [InlineData("224.0.0.1", "multicast")]
    [InlineData("ff02::1", "multicast")]
    [InlineData("255.255.255.255", "broadcast")]
    [InlineData("::ffff:169.254.169.254", "link-local")]
    public void TheDefaultPolicy_RefusesAddressesNoPuppetLivesAt(string address, string reason)
    {
        var policy = new PuppetConnectPolicy(new TableResolver(), new StaticOptions(new()), new ServiceCollection().BuildServiceProvider());

        Assert.Contains(reason, policy.Refusal("host", IPAddress.Parse(address), 8080));
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("10.1.2.3")]
    [InlineData("172.16.0.5")]
    [InlineData("192.168.1.20")]
    [InlineData("::1")]
    [InlineData("fd12::5")]
    public void TheDefaultPolicy_AllowsPrivateAndLoopbackRanges(string address)
    {
        var policy = new PuppetConnectPolicy(new TableResolver(), new StaticOptions(new()), new ServiceCollection().BuildServiceProvider());

        Assert.Null(policy.Refusal("host", IPAddress.Parse(address), 8080));
    }

    [Fact]
    public void ThePolicy_RefusesTheManagersOwnListeningPort()
    {
        var policy = app.Services.GetRequiredService<PuppetConnectPolicy>();
        var own = app.Client.BaseAddress!.Port;

        Assert.Contains("this manager", policy.Refusal("127.0.0.1", IPAddress.Loopback, own));
        Assert.Null(policy.Refusal("127.0.0.1", IPAddress.Loopback, own == 65535 ? 65534 : own + 1));
    }

    [Fact]
    public void AllowedPuppetHosts_NarrowTheAddressesConnectedTo()
    {
        var policy = app.Services.GetRequiredService<PuppetConnectPolicy>();

        Assert.Null(policy.Refusal("127.0.0.1", IPAddress.Loopback, 8080));
        Assert.Contains("not in the allowed puppet hosts", policy.Refusal("127.0.0.2", IPAddress.Parse("127.0.0.2"), 8080));
        // A listed name is trusted to resolve where it should; the fixed refusals still hold for it.
        Assert.Null(policy.Refusal("puppet-a.test", IPAddress.Parse("10.9.9.9"), 8080));
        Assert.Contains("link-local", policy.Refusal("puppet-a.test", IPAddress.Parse("169.254.169.254"), 8080));
    }

    private async Task RegisterAsync(TestCorp corp, string kfId, string endpoint) =>
        (await app.Client.PostAsJsonAsync("/puppetWxkfManager/register", corp.Registration(kfId, endpoint), Ct)).EnsureSuccessStatusCode();

    private async Task<string> LastErrorAsync(string kfId)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (DateTime.UtcNow < deadline)
        {
            var info = await app.Client.GetFromJsonAsync<JsonElement>($"/puppetWxkfManager/puppetWxkfInfo/{kfId}", Ct);
            if (info.GetProperty("delivery").GetProperty("lastError").GetString() is { } error)
            {
                return error;
            }
            await Task.Delay(50, Ct);
        }
        throw new TimeoutException($"no delivery failure was recorded for {kfId}");
    }

    private sealed class StaticOptions(WxkfManager.Settings.SecurityOptions value) : Microsoft.Extensions.Options.IOptionsMonitor<WxkfManager.Settings.SecurityOptions>
    {
        public WxkfManager.Settings.SecurityOptions CurrentValue => value;

        public WxkfManager.Settings.SecurityOptions Get(string? name) => value;

        public IDisposable? OnChange(Action<WxkfManager.Settings.SecurityOptions, string?> listener) => null;
    }
}
