using Serilog;
using Serilog.Events;

namespace WxkfManager.Extensions;

public static class LoggingExtensions
{
    /// <summary>Serilog to the console and to daily files under LOG_PATH (default ./logs), as the original did; LOG_FORMAT=json for structured JSON.</summary>
    public static WebApplicationBuilder AddSerilogLogging(this WebApplicationBuilder builder)
    {
        var logPath = builder.Configuration["LOG_PATH"];
        if (string.IsNullOrWhiteSpace(logPath))
        {
            logPath = "./logs";
        }
        var logFile = Path.Combine(logPath, "wxkf-manager-.log");
        var json = string.Equals(builder.Configuration["LOG_FORMAT"], "json", StringComparison.OrdinalIgnoreCase);
        builder.Services.AddSerilog((services, logger) => logger
            .ReadFrom.Configuration(builder.Configuration)
            .ReadFrom.Services(services)
            .MinimumLevel.Override("Microsoft.AspNetCore", LogEventLevel.Warning)
            .MinimumLevel.Override("System.Net.Http.HttpClient", LogEventLevel.Warning)
            .MinimumLevel.Override("Polly", LogEventLevel.Warning)
            .Destructure.With<WxkfManager.Extensions.SecretMaskingPolicy>()
            .Enrich.FromLogContext()
            // Program reports a bad setting as one line; the host's "Hosting failed to start" with a stack trace would bury it.
            .Filter.ByExcluding(e => e.Exception is not null && StartupFailure.IsConfigurationError(e.Exception)
                && e.Properties.TryGetValue("SourceContext", out var source) && source.ToString().Contains("Microsoft.Extensions.Hosting", StringComparison.Ordinal))
            .WriteTo.Logger(sinks => WriteToConsoleAndFiles(sinks, logFile, json)),
            // Each host keeps its own logger rather than the process-wide static one, so two hosts in one
            // process (tests, or a host restarted in place) never write to each other's files.
            preserveStaticLogger: true);
        return builder;
    }

    private static void WriteToConsoleAndFiles(LoggerConfiguration sinks, string logFile, bool json)
    {
        if (json)
        {
            sinks.WriteTo.Console(new JsonLogFormatter())
                .WriteTo.File(new JsonLogFormatter(), logFile, rollingInterval: RollingInterval.Day, retainedFileCountLimit: 14, shared: true);
        }
        else
        {
            sinks.Enrich.With<ControlCharacterEscaper>()
                .WriteTo.Console()
                .WriteTo.File(logFile, rollingInterval: RollingInterval.Day, retainedFileCountLimit: 14, shared: true);
        }
    }

    /// <summary>One line per request, with the query left out: it carries signatures and, for getToken, the corp secret.</summary>
    public static WebApplication UseRequestLogging(this WebApplication app)
    {
        app.UseSerilogRequestLogging(options =>
        {
            // This host's own logger: the static one is left alone (see AddSerilogLogging).
            options.Logger = app.Services.GetRequiredService<Serilog.ILogger>();
            options.MessageTemplate = "HTTP {RequestMethod} {RequestPath} responded {StatusCode} in {Elapsed:0.0} ms";
            options.GetLevel = (context, _, exception) =>
                exception is not null || context.Response.StatusCode >= 500 ? LogEventLevel.Error
                : context.Request.Path.StartsWithSegments("/health") || context.Request.Path.StartsWithSegments("/ready") ? LogEventLevel.Debug
                : LogEventLevel.Information;
        });
        return app;
    }
}
