using Serilog;
using Serilog.Events;

namespace WxkfManager.Extensions;

public static class LoggingExtensions
{
    /// <summary>Serilog to the console and to daily files under LOG_PATH (default ./logs), as the original did.</summary>
    public static WebApplicationBuilder AddSerilogLogging(this WebApplicationBuilder builder)
    {
        var logPath = builder.Configuration["LOG_PATH"];
        if (string.IsNullOrWhiteSpace(logPath))
        {
            logPath = "./logs";
        }
        var logFile = Path.Combine(logPath, "wxkf-manager-.log");
        builder.Services.AddSerilog((services, logger) => logger
            .ReadFrom.Configuration(builder.Configuration)
            .ReadFrom.Services(services)
            .MinimumLevel.Override("Microsoft.AspNetCore", LogEventLevel.Warning)
            .MinimumLevel.Override("System.Net.Http.HttpClient", LogEventLevel.Warning)
            .MinimumLevel.Override("Polly", LogEventLevel.Warning)
            .Destructure.With<Security.SecretMaskingPolicy>()
            .Enrich.FromLogContext()
            .WriteTo.Console()
            .WriteTo.File(logFile, rollingInterval: RollingInterval.Day, retainedFileCountLimit: 14, shared: true),
            // Each host keeps its own logger rather than the process-wide static one, so two hosts in one
            // process (tests, or a host restarted in place) never write to each other's files.
            preserveStaticLogger: true);
        return builder;
    }

    /// <summary>One line per request, with the query left out: it carries signatures and, for getToken, the corp secret.</summary>
    public static WebApplication UseRequestLogging(this WebApplication app)
    {
        app.UseSerilogRequestLogging(options =>
        {
            options.MessageTemplate = "HTTP {RequestMethod} {RequestPath} responded {StatusCode} in {Elapsed:0.0} ms";
            options.GetLevel = (context, _, exception) =>
                exception is not null || context.Response.StatusCode >= 500 ? LogEventLevel.Error
                : context.Request.Path.StartsWithSegments("/health") || context.Request.Path.StartsWithSegments("/ready") ? LogEventLevel.Debug
                : LogEventLevel.Information;
        });
        return app;
    }
}
