using Serilog;
using Serilog.Core;
using Serilog.Events;
using WxkfManager.Apis;
using WxkfManager.Security;
using WxkfManager.Extensions;

namespace WxkfManager.Tests.Security;

public sealed class SecretMaskingPolicyTests
{
    private sealed class Collector : ILogEventSink
    {
        public List<LogEvent> Events { get; } = [];

        public void Emit(LogEvent logEvent) => Events.Add(logEvent);
    }

    [Fact]
    public void DestructuredRegistrations_ShowTheirIdentity_ButNoSecrets()
    {
        var collector = new Collector();
        using var logger = new LoggerConfiguration().Destructure.With<SecretMaskingPolicy>().WriteTo.Sink(collector).CreateLogger();
        var registration = Registrations.New();
        var request = new RegisterRequest("wk1", "name", "http://10.0.0.5", "ww1", "request-secret", "request-token", registration.EncodingAesKey);

        logger.Information("Registered {@Registration} from {@Request}", registration, request);

        var rendered = string.Join('\n', collector.Events.Select(e => e.RenderMessage() + " " + string.Join(',', e.Properties.Select(p => p.Value.ToString()))));
        Assert.Contains(registration.KfId, rendered);
        Assert.Contains(SecretMaskingPolicy.Mask, rendered);
        foreach (var secret in new[] { registration.CorpSecret, registration.Token, registration.EncodingAesKey, "request-secret", "request-token" })
        {
            Assert.DoesNotContain(secret, rendered);
        }
    }

    [Fact]
    public void ToString_OfRegistrationsAndRequests_LeavesSecretsOut()
    {
        var registration = Registrations.New();
        var request = new RegisterRequest("wk1", "name", "http://10.0.0.5", "ww1", "request-secret", "request-token", registration.EncodingAesKey);

        foreach (var text in new[] { registration.ToString(), request.ToString() })
        {
            Assert.DoesNotContain(registration.CorpSecret, text);
            Assert.DoesNotContain(registration.EncodingAesKey, text);
            Assert.DoesNotContain("request-secret", text);
            Assert.DoesNotContain("request-token", text);
        }
    }
}
