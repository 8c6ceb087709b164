using WxkfManager.Apis;
using WxkfManager.Extensions;
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
    app.UseRateLimiter();
    app.WarnIfManagementIsOpen();
    app.UseOpenApiDocumentation();

    app.MapHealthApi();
    app.MapCallbackApi();
    app.MapManagerApi();
    app.MapTokenApi();
    app.MapOperatorApi();
    app.MapOperatorPuppetApi();
    app.MapOperatorConsoleApi();
    app.MapManagerMetrics();
    app.MapOperatorConsole();
    app.MapConsoleApi();

    await app.RunAsync();
    return 0;
}
catch (Exception exception) when (StartupFailure.IsConfigurationError(exception) && StartupFailure.IsOwnProcess)
{
    return StartupFailure.Report(exception, builder.Configuration, Console.Error);
}

public partial class Program;
