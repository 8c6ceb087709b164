using Microsoft.Extensions.Options;
using WxkfManager.Metrics;
using WxkfManager.Settings;
using WxkfManager.Security;

namespace WxkfManager.Apis;

/// <summary>What the callback handlers work with besides the intake.</summary>
public sealed record CallbackServices(
    SignatureFailureLimiter Limiter,
    IOptions<CallbackOptions> Options,
    Serilog.IDiagnosticContext Diagnostics,
    ManagerMetrics Metrics);
