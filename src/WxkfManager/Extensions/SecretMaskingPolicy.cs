using Serilog.Core;
using Serilog.Events;
using WxkfManager.Apis;
using WxkfManager.Registry;

namespace WxkfManager.Extensions;

/// <summary>
/// Defence in depth for logs: a registration destructured into a log event ({@Registration}) shows its
/// identity, never corpSecret, token or encodingAESKey.
/// </summary>
public sealed class SecretMaskingPolicy : IDestructuringPolicy
{
    public const string Mask = "***";

    public bool TryDestructure(object value, ILogEventPropertyValueFactory propertyValueFactory, out LogEventPropertyValue result)
    {
        result = value switch
        {
            PuppetRegistration r => Structure(nameof(PuppetRegistration), ("KfId", r.KfId), ("KfName", r.KfName), ("Endpoint", r.Endpoint), ("CorpId", r.CorpId), ("Online", r.Online)),
            RegisterRequest r => Structure(nameof(RegisterRequest), ("KfId", r.KfId), ("KfName", r.KfName), ("Endpoint", r.Endpoint), ("CorpId", r.CorpId)),
            _ => null!,
        };
        return result is not null;
    }

    private static StructureValue Structure(string type, params (string Name, object? Value)[] visible) =>
        new([
            .. visible.Select(p => new LogEventProperty(p.Name, new ScalarValue(p.Value))),
            new LogEventProperty("CorpSecret", new ScalarValue(Mask)),
            new LogEventProperty("Token", new ScalarValue(Mask)),
            new LogEventProperty("EncodingAesKey", new ScalarValue(Mask)),
        ], type);
}
