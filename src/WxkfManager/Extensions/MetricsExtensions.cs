using System.Diagnostics.Metrics;
using OpenTelemetry.Metrics;
using WxkfManager.Metrics;
using WxkfManager.Security;

namespace WxkfManager.Extensions;

/// <summary>
/// System.Diagnostics.Metrics exported by OpenTelemetry in Prometheus text format: the service's meter, ASP.NET
/// Core's HTTP server meters and the runtime's (GC, CPU, memory; .NET's built-in System.Runtime meter).
/// </summary>
public static class MetricsExtensions
{
    public const string Path = "/metrics";

    /// <summary>The meters exported besides the service's own.</summary>
    public static readonly string[] PlatformMeters =
        ["Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", "System.Runtime"];

    /// <summary>
    /// The runtime's gauges named *.count, which promtool rejects ("non-histogram and non-summary metrics should not
    /// have "_count" suffix": a histogram's _count series would clash), under names that say the same.
    /// </summary>
    private static readonly Dictionary<string, string> RuntimeRenames = new(StringComparer.Ordinal)
    {
        ["dotnet.assembly.count"] = "dotnet.assemblies.loaded",
        ["dotnet.process.cpu.count"] = "dotnet.process.cpus",
        ["dotnet.thread_pool.thread.count"] = "dotnet.thread_pool.threads",
        ["dotnet.timer.count"] = "dotnet.timers",
    };

    /// <summary>
    /// Label combinations kept per metric. No label here carries a puppet or corp id, so the widest (HTTP route × method
    /// × status) stays in the low hundreds; OpenTelemetry's default of 2,000 reserves ~140 KB per metric up front, ~5 MB
    /// in all. Past the limit a metric adds to one overflow series (otel_metric_overflow="true") and loses no count.
    /// </summary>
    public const int SeriesPerMetric = 500;

    public static IServiceCollection AddManagerMetrics(this IServiceCollection services)
    {
        services.AddMetrics();
        services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter(ManagerMetrics.MeterName)
            .AddMeter(PlatformMeters)
            .AddPrometheusExporter(options =>
            {
                // Every scrape is read fresh: the gauges read the store for it.
                options.ScrapeResponseCacheDurationMilliseconds = 0;
                // Series keep the names and labels they had (wxkf_puppets{state="online"}): no otel_scope_name label
                // on every sample, no target_info family (a scrape target is known to Prometheus by its job and instance).
                options.ScopeInfoEnabled = false;
                options.TargetInfoEnabled = false;
            }));
        services.ConfigureOpenTelemetryMeterProvider((provider, builder) =>
        {
            // Meters are matched by name across the process: a second host in it (tests start many) would add
            // its series again. Only this host's meters (and the process-wide runtime one) are exported.
            var ours = provider.GetRequiredService<IMeterFactory>();
            builder.AddView(instrument =>
                instrument.Meter.Scope is not null && !ReferenceEquals(instrument.Meter.Scope, ours) ? MetricStreamConfiguration.Drop
                : new MetricStreamConfiguration
                {
                    Name = RuntimeRenames.GetValueOrDefault(instrument.Name),
                    CardinalityLimit = SeriesPerMetric,
                });
        });
        services.AddSingleton(provider =>
        {
            // The exporter listens before the first series are recorded at zero, or they would not be seen.
            _ = provider.GetRequiredService<MeterProvider>();
            return ActivatorUtilities.CreateInstance<ManagerMetrics>(provider);
        });
        services.AddSingleton<StateGauges>();
        return services;
    }

    /// <summary>
    /// /metrics, behind the operator key like the operator endpoints (Prometheus sends it with
    /// <c>authorization: { credentials: OPERATOR_KEY }</c>); the queue is read for each scrape that gets through.
    /// </summary>
    public static IEndpointRouteBuilder MapManagerMetrics(this IEndpointRouteBuilder app)
    {
        app.MapPrometheusScrapingEndpoint(Path)
            .RequireOperatorAccess()
            .AddEndpointFilter(async (context, next) =>
            {
                await context.HttpContext.RequestServices.GetRequiredService<StateGauges>().RefreshQueueAsync(context.HttpContext.RequestAborted);
                return await next(context);
            })
            .WithTags("Operator");
        return app;
    }
}
