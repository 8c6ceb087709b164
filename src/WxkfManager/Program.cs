using WxkfManager.Apis;
using WxkfManager.Extensions;
using WxkfManager.Metrics;
using WxkfManager.OperatorConsole;
using WxkfManager.Security;

var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = ContentRoot.Choose() });
try
{
    builder.AddApplicationServices();

    var app = builder.Build();
    app.UseExceptionHandler();
    app.UseStatusCodePages();
    app.UseRequestLogging();
    app.UseManagerHttpMetrics();
    app.UseRateLimiter();
    app.WarnIfManagementIsOpen();
    app.UseOpenApiDocumentation();

    app.MapHealthApi();
    app.MapCallbackApi();
    app.MapManagerApi();
    app.MapOperatorApi();
    app.MapManagerMetrics();
    app.MapOperatorConsole();

    await app.RunAsync();
    return 0;
}
catch (Exception exception) when (StartupFailure.IsConfigurationError(exception) && StartupFailure.IsOwnProcess)
{
    return StartupFailure.Report(exception, builder.Configuration, Console.Error);
}

public partial class Program;
