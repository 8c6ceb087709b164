using WxkfManager.Registry;

namespace WxkfManager.Tests.Infrastructure;

/// <summary>Registrations of made-up puppets, for tests that talk to a registry or a directory directly.</summary>
public static class Registrations
{
    public static PuppetRegistration New(string? corpId = null, string? kfId = null) => new(
        KfId: kfId ?? "wk" + Guid.NewGuid().ToString("N"),
        KfName: "客服 " + Random.Shared.Next(1000),
        Endpoint: "http://127.0.0.1:" + Random.Shared.Next(1024, 65000),
        CorpId: corpId ?? "ww" + Guid.NewGuid().ToString("N")[..16],
        CorpSecret: "secret-" + Guid.NewGuid().ToString("N"),
        Token: "token" + Random.Shared.Next(),
        EncodingAesKey: Crypto.EncodingAesKey.Generate(),
        Online: true,
        LastOnlineDate: null,
        RegisteredAt: TruncatedNow());

    /// <summary>Now, to the millisecond: both stores keep millisecond precision (MongoDB's BSON date is milliseconds).</summary>
    public static DateTime TruncatedNow()
    {
        var now = DateTime.UtcNow;
        return new DateTime(now.Ticks - now.Ticks % TimeSpan.TicksPerMillisecond, DateTimeKind.Utc);
    }
}
