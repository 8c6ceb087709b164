using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace WxkfManager.Tests.Infrastructure;

/// <summary>
/// The manager on real Kestrel (loopback, free port) over its own SQLite data directory, with a puppet
/// stub and a fake WeCom beside it. Shared per test class; every test uses its own corp and puppets.
/// </summary>
public class ManagerApp : WebApplicationFactory<Program>, IAsyncLifetime
{
    private readonly Dictionary<string, string?> _settings = new();
    private readonly List<Action<IServiceCollection>> _services = [];
    private TimeProvider? _time;

    public ManagerApp()
    {
        var root = Path.Combine(Path.GetTempPath(), "wxkf-tests", Guid.NewGuid().ToString("N"));
        DataDirectory = Path.Combine(root, "data");
        LogDirectory = Path.Combine(root, "logs");
    }

    public string DataDirectory { get; set; }
    public string LogDirectory { get; }
    public PuppetStub Puppets { get; private set; } = null!;
    public WeComStub WeCom { get; private set; } = null!;
    public HttpClient Client { get; private set; } = null!;

    /// <summary>Settings applied before start; keys as in appsettings ("Delivery:MaxRetryDelay") or env names ("MONGO_URI").</summary>
    public ManagerApp With(string key, string? value)
    {
        _settings[key] = value;
        return this;
    }

    /// <summary>
    /// The clock the manager reads and waits on, instead of the system's: a FakeTimeProvider lets a test move time
    /// past an expiry without sleeping. Everything that waits on it (delivery polls, registry refreshes) waits for it too.
    /// </summary>
    public ManagerApp WithTime(TimeProvider time)
    {
        _time = time;
        return this;
    }

    /// <summary>Changes to the manager's services, applied after its own registrations.</summary>
    public ManagerApp WithServices(Action<IServiceCollection> configure)
    {
        _services.Add(configure);
        return this;
    }

    protected virtual Task BeforeStartAsync() => Task.CompletedTask;

    public async ValueTask InitializeAsync()
    {
        Puppets = await PuppetStub.StartAsync();
        WeCom = await WeComStub.StartAsync();
        await BeforeStartAsync();
        UseKestrel(0);
        StartServer();
        Client = CreateClient();
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        builder.UseSetting("urls", "http://127.0.0.1:0");
        builder.UseSetting("DATA_DIR", DataDirectory);
        builder.UseSetting("LOG_PATH", LogDirectory);
        builder.UseSetting("ACCESS_TOKEN_URL", WeCom.TokenUrl);
        builder.UseSetting("WeCom:ApiBaseUrl", WeCom.ApiBase);
        // Delivery tuned for tests: quick retries of refused events and short polls. Recovery from outages keeps
        // the production probe schedule (Delivery:ProbeFirstInterval, ProbeMaxInterval), which the recovery tests measure.
        builder.UseSetting("Delivery:AttemptTimeout", "00:00:05");
        builder.UseSetting("Delivery:RetryBaseDelay", "00:00:00.050");
        builder.UseSetting("Delivery:MaxRetryDelay", "00:00:00.400");
        builder.UseSetting("Delivery:PollInterval", "00:00:00.100");
        // Longer than the worst-case attempt, as start-up requires.
        builder.UseSetting("Delivery:LeaseDuration", "00:00:30");
        builder.UseSetting("Delivery:ShutdownGrace", "00:00:02");
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }
        if (_time is { } time)
        {
            builder.ConfigureTestServices(services => services.Replace(ServiceDescriptor.Singleton(time)));
        }
        foreach (var configure in _services)
        {
            builder.ConfigureTestServices(configure);
        }
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        await Puppets.DisposeAsync();
        await WeCom.DisposeAsync();
        GC.SuppressFinalize(this);
    }
}
