using WxkfManager.Apis;
using WxkfManager.Extensions;
using WxkfManager.Metrics;
using WxkfManager.OperatorConsole;
using WxkfManager.Security;

var builder = WebApplication.CreateBuilder(args);
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
app.MapOperatorApi();
app.MapManagerMetrics();
app.MapOperatorConsole();

app.Run();

public partial class Program;
