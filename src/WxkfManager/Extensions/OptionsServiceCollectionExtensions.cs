using Microsoft.Extensions.Options;
using MongoDB.Driver;
using WxkfManager.Delivery;
using WxkfManager.Settings;

namespace WxkfManager.Extensions;

public static class OptionsServiceCollectionExtensions
{
    /// <summary>
    /// Binds each options class from its section, lets the original service's flat environment variables
    /// (MONGO_URI, ACCESS_TOKEN_URL, DATA_DIR) override it, and validates at start so a bad deploy dies at boot.
    /// </summary>
    public static IServiceCollection AddValidatedOptions(this IServiceCollection services)
    {
        services.AddOptions<StorageOptions>()
            .BindConfiguration(StorageOptions.Section)
            .Configure<IConfiguration>((options, configuration) =>
            {
                options.MongoUri = NonEmpty(configuration["MONGO_URI"]) ?? options.MongoUri;
                options.DataDirectory = NonEmpty(configuration["DATA_DIR"]) ?? options.DataDirectory;
            })
            .ValidateDataAnnotations()
            .Validate(options => !options.UsesMongo || IsMongoUri(options.MongoUri!),
                "MONGO_URI is not a valid MongoDB connection string (mongodb://host:port/database)")
            .ValidateOnStart();

        services.AddOptions<WeComOptions>()
            .BindConfiguration(WeComOptions.Section)
            .Configure<IConfiguration>((options, configuration) =>
                options.AccessTokenUrl = NonEmpty(configuration["ACCESS_TOKEN_URL"]) ?? options.AccessTokenUrl)
            .ValidateDataAnnotations()
            .Validate(options => IsHttpUrl(options.AccessTokenUrl), "ACCESS_TOKEN_URL must be an absolute http(s) URL")
            .Validate(options => IsHttpUrl(options.ApiBaseUrl), "WeCom:ApiBaseUrl must be an absolute http(s) URL")
            .ValidateOnStart();

        services.AddSingleton<IValidateOptions<DeliveryOptions>, DeliveryLeaseValidation>();
        services.AddOptions<DeliveryOptions>()
            .BindConfiguration(DeliveryOptions.Section)
            .ValidateDataAnnotations()
            .Validate(options => options.ProbeFirstInterval <= options.ProbeMaxInterval,
                "Delivery:ProbeFirstInterval must not exceed Delivery:ProbeMaxInterval")
            .ValidateOnStart();

        services.AddOptions<SecurityOptions>()
            .BindConfiguration(SecurityOptions.Section)
            .Configure<IConfiguration>((options, configuration) =>
            {
                options.ManagementKey = NonEmpty(configuration["MANAGER_API_KEY"]) ?? options.ManagementKey;
                options.OperatorKey = NonEmpty(configuration["MANAGER_OPERATOR_KEY"]) ?? options.OperatorKey;
                options.GatewayKey = NonEmpty(configuration["MANAGER_GATEWAY_KEY"]) ?? options.GatewayKey;
                if (NonEmpty(configuration["DECRYPTED_CALLBACK_NETWORKS"]) is { } gateways)
                {
                    options.GatewayNetworks = [.. gateways.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
                }
                options.SecretsEncryptionKey = NonEmpty(configuration["SECRETS_ENCRYPTION_KEY"]) ?? options.SecretsEncryptionKey;
                if (NonEmpty(configuration["MANAGER_ALLOWED_NETWORKS"]) is { } networks)
                {
                    options.ManagementNetworks = [.. networks.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
                }
            })
            .ValidateDataAnnotations()
            .Validate(options => options.ManagementNetworks.All(n => System.Net.IPNetwork.TryParse(n, out _)),
                "MANAGER_ALLOWED_NETWORKS must be CIDR networks, e.g. 10.0.0.0/8,192.168.1.0/24")
            .Validate(options => options.GatewayNetworks.All(n => System.Net.IPNetwork.TryParse(n, out _)),
                "DECRYPTED_CALLBACK_NETWORKS must be CIDR networks, e.g. 10.0.0.0/8")
            .Validate(options => !options.HasOperatorKey || options.OperatorKey != options.ManagementKey,
                "MANAGER_OPERATOR_KEY must differ from MANAGER_API_KEY: puppets carry that one in their URLs and logs")
            .Validate(options => options.AllowedPuppetHosts.All(h => !string.IsNullOrWhiteSpace(h)),
                "Security:AllowedPuppetHosts must not contain empty entries")
            .Validate(options => options.SecretsEncryptionKey is null || Security.SecretProtector.IsValidKey(options.SecretsEncryptionKey),
                "SECRETS_ENCRYPTION_KEY must be Base64 of exactly 32 bytes (e.g. openssl rand -base64 32)")
            .ValidateOnStart();

        services.AddOptions<CallbackOptions>()
            .BindConfiguration(CallbackOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();

        return services;
    }

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;

    private static bool IsHttpUrl(string value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps);

    private static bool IsMongoUri(string value)
    {
        try
        {
            _ = MongoUrl.Create(value);
            return true;
        }
        catch (MongoConfigurationException)
        {
            return false;
        }
    }
}
