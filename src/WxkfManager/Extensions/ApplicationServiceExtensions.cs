using Microsoft.Extensions.Options;
using WxkfManager.Callbacks;
using WxkfManager.Delivery;
using WxkfManager.OperatorConsole;
using WxkfManager.Settings;
using WxkfManager.Registry;
using WxkfManager.Security;
using WxkfManager.Tokens;
using WxkfManager.WeCom;
using WxkfManager.Storage;
using WxkfManager.Storage.Mongo;
using WxkfManager.Storage.Sqlite;

namespace WxkfManager.Extensions;

public static class ApplicationServiceExtensions
{
    public static WebApplicationBuilder AddApplicationServices(this WebApplicationBuilder builder)
    {
        builder.AddListeningPort();
        builder.AddSerilogLogging();

        var services = builder.Services;
        services.AddValidatedOptions();
        services.AddProblemDetails();
        services.AddSingleton(TimeProvider.System);
        services.AddManagerMetrics();

        services.AddStores();
        services.AddSingleton<PuppetDirectory>();
        services.AddPuppetRegistration();
        services.AddSingleton<StoreStatus>();
        services.AddHostedService<StorageInitializer>();
        services.AddHostedService<RegistryRefreshService>();

        services.AddSecurity();
        services.AddSingleton<CallbackIntake>();
        services.AddPuppetDelivery();
        services.AddOptions<HostOptions>().Configure<IOptions<DeliveryOptions>>((host, delivery) =>
            host.ShutdownTimeout = delivery.Value.ShutdownGrace + TimeSpan.FromSeconds(5));
        services.AddWeComClient();
        services.AddSingleton<AccessTokenService>();
        services.AddOperatorConsole();

        services.AddOpenApiDocumentation();
        return builder;
    }

    /// <summary>SQLite by default; MongoDB for both the registry and the delivery queue when MONGO_URI is set.</summary>
    private static void AddStores(this IServiceCollection services)
    {
        services.AddSingleton<SqliteDatabase>();
        services.AddSingleton<IPuppetRegistry>(sp =>
        {
            IPuppetRegistry store = UsesMongo(sp)
                ? ActivatorUtilities.CreateInstance<MongoPuppetRegistry>(sp)
                : new SqlitePuppetRegistry(sp.GetRequiredService<SqliteDatabase>());
            var key = sp.GetRequiredService<IOptions<SecurityOptions>>().Value.SecretsEncryptionKey;
            return key is null ? store : new EncryptingPuppetRegistry(store, new SecretProtector(key), sp.GetRequiredService<ILogger<EncryptingPuppetRegistry>>());
        });
        services.AddSingleton<IDeliveryStore>(sp => UsesMongo(sp)
            ? ActivatorUtilities.CreateInstance<MongoDeliveryStore>(sp)
            : new SqliteDeliveryStore(sp.GetRequiredService<SqliteDatabase>()));
        services.AddSingleton<IQueueBreakdown>(sp => sp.GetRequiredService<IDeliveryStore>() is MongoDeliveryStore mongo
            ? new MongoQueueBreakdown(mongo)
            : new SqliteQueueBreakdown(sp.GetRequiredService<SqliteDatabase>()));
        services.AddSingleton<IStoreWriteCheck>(sp => UsesMongo(sp) ? new NoWriteCheck() : sp.GetRequiredService<SqliteDatabase>());
        services.AddSingleton<ITokenStore>(sp =>
        {
            ITokenStore store = UsesMongo(sp)
                ? ActivatorUtilities.CreateInstance<MongoTokenStore>(sp)
                : new SqliteTokenStore(sp.GetRequiredService<SqliteDatabase>());
            var key = sp.GetRequiredService<IOptions<SecurityOptions>>().Value.SecretsEncryptionKey;
            return key is null ? store : new EncryptingTokenStore(store, new SecretProtector(key), sp.GetRequiredService<ILogger<EncryptingTokenStore>>());
        });
    }

    private static bool UsesMongo(IServiceProvider services) => services.GetRequiredService<IOptions<StorageOptions>>().Value.UsesMongo;

    /// <summary>
    /// PORT (default 3000) as in the original. ASPNETCORE_URLS/--urls still win; PORT, when set, deliberately wins over
    /// ASPNETCORE_HTTP_PORTS, which .NET's container images set to 8080, so the image listens where its EXPOSE,
    /// health check and compose mapping look. Without PORT, ASPNETCORE_HTTP_PORTS is honoured.
    /// </summary>
    private static void AddListeningPort(this WebApplicationBuilder builder)
    {
        if (!string.IsNullOrEmpty(builder.Configuration[WebHostDefaults.ServerUrlsKey]))
        {
            return;
        }
        var text = builder.Configuration["PORT"];
        if (string.IsNullOrWhiteSpace(text))
        {
            if (!string.IsNullOrEmpty(builder.Configuration[WebHostDefaults.HttpPortsKey]))
            {
                return;
            }
            text = "3000";
        }
        if (!int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var port) || port > 65535)
        {
            throw new OptionsValidationException("PORT", typeof(int), [$"PORT must be a number from 0 to 65535, got '{text}'"]);
        }
        // Cleared so Kestrel does not warn that the URL overrides the image's HTTP_PORTS.
        builder.WebHost.UseSetting(WebHostDefaults.HttpPortsKey, "");
        builder.WebHost.UseUrls($"http://0.0.0.0:{port}");
    }
}
