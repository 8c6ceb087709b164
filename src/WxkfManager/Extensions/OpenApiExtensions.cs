namespace WxkfManager.Extensions;

public static class OpenApiExtensions
{
    public static IServiceCollection AddOpenApiDocumentation(this IServiceCollection services)
    {
        services.AddEndpointsApiExplorer();
        services.AddSwaggerGen(options =>
        {
            options.SwaggerDoc("v1", new Microsoft.OpenApi.OpenApiInfo
            {
                Title = "WXKF-Manager",
                Version = "v1",
                Description = "Dispatches WeCom customer-service callbacks to registered puppets; wire-compatible with juzibot/wxkf-manager.",
            });
            options.AddSecurityDefinition(OpenApiConventions.ManagementKeyScheme, new Microsoft.OpenApi.OpenApiSecurityScheme
            {
                Type = Microsoft.OpenApi.SecuritySchemeType.Http,
                Scheme = "bearer",
                Description = "MANAGER_API_KEY, when set, as a bearer token (HTTP Basic with the key as password also works).",
            });
            options.OperationFilter<OpenApiExamples>();
            options.OperationFilter<OpenApiConventions>();
        });
        return services;
    }

    public static WebApplication UseOpenApiDocumentation(this WebApplication app)
    {
        app.UseSwagger();
        app.UseSwaggerUI(options => options.SwaggerEndpoint("/swagger/v1/swagger.json", "WXKF-Manager v1"));
        return app;
    }
}
