using Microsoft.Extensions.Options;
using MongoDB.Driver;

namespace WxkfManager.Options;

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

        services.AddOptions<DeliveryOptions>()
            .BindConfiguration(DeliveryOptions.Section)
            .ValidateDataAnnotations()
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
