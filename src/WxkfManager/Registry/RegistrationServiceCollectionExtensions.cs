using WxkfManager.Settings;

namespace WxkfManager.Registry;

public static class RegistrationServiceCollectionExtensions
{
    public static IServiceCollection AddPuppetRegistration(this IServiceCollection services)
    {
        services.AddOptions<RegistrationOptions>()
            .BindConfiguration(RegistrationOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddHttpClient(HandOverProbe.ClientName, client => client.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(Security.PuppetHttpHandler.Create);
        services.AddSingleton<HandOverProbe>();
        return services;
    }
}
