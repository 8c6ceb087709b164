using BenchmarkDotNet.Attributes;
using WxkfManager.Crypto;

namespace WxkfManager.Benchmarks;

/// <summary>
/// A callback's two XML documents (the envelope, then the decrypted event) read the way FlatXml reads them now
/// (the span reader for WeCom's flat shape) and the way it did before (an XmlReader per document), side by side.
/// </summary>
[MemoryDiagnoser]
public class XmlBenchmarks
{
    private readonly CryptoInputs _inputs = CryptoInputs.Create();
    private string _envelope = "";
    private string _exoticEnvelope = "";

    [GlobalSetup]
    public void Setup()
    {
        _envelope = new CallbackEnvelope(_inputs.CorpId, "1000002", _inputs.Encrypt).ToXml();
        // A comment is outside the flat shape: this document takes the XmlReader fallback.
        _exoticEnvelope = _envelope.Replace("<Encrypt>", "<!-- note --><Encrypt>", StringComparison.Ordinal);
    }

    [Benchmark(Baseline = true)]
    public string? EnvelopeAndEvent_XmlReader()
    {
        var envelope = FlatXml.ReadWithXmlReader(_envelope)!;
        _ = new CallbackEnvelope(envelope.GetValueOrDefault("ToUserName"), envelope.GetValueOrDefault("AgentID"), envelope["Encrypt"].Trim());
        var message = FlatXml.ReadWithXmlReader(_inputs.Message)!;
        return new CallbackEvent(message.GetValueOrDefault("ToUserName"), message.GetValueOrDefault("CreateTime"), message.GetValueOrDefault("MsgType"),
            message.GetValueOrDefault("Event"), message.GetValueOrDefault("Token"), message.GetValueOrDefault("OpenKfId")).OpenKfId;
    }

    [Benchmark]
    public string? EnvelopeAndEvent_SpanReader()
    {
        _ = CallbackEnvelope.TryParse(_envelope);
        return CallbackEvent.TryParse(_inputs.Message)?.OpenKfId;
    }

    [Benchmark]
    public CallbackEnvelope? Envelope_SpanReader() => CallbackEnvelope.TryParse(_envelope);

    [Benchmark]
    public CallbackEvent? Event_SpanReader() => CallbackEvent.TryParse(_inputs.Message);

    /// <summary>What a document outside the flat shape costs: the span reader's attempt, then XmlReader.</summary>
    [Benchmark]
    public CallbackEnvelope? Envelope_OutsideTheFlatShape_FallsBack() => CallbackEnvelope.TryParse(_exoticEnvelope);
}
