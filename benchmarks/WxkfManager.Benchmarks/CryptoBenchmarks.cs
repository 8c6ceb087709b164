using BenchmarkDotNet.Attributes;
using WxkfManager.Crypto;

namespace WxkfManager.Benchmarks;

/// <summary>The callback hot path's crypto, step by step, with allocations.</summary>
[MemoryDiagnoser]
public class CryptoBenchmarks
{
    private readonly CryptoInputs _inputs = CryptoInputs.Create();
    private WeComCrypto _crypto = null!;
    private string _envelope = "";

    [GlobalSetup]
    public void Setup()
    {
        _crypto = WeComCrypto.Create(_inputs.Token, _inputs.EncodingAesKey);
        _envelope = new CallbackEnvelope(_inputs.CorpId, "1000002", _inputs.Encrypt).ToXml();
    }

    [Benchmark]
    public bool VerifySignature() => _crypto.VerifySignature(_inputs.Signature, _inputs.Timestamp, _inputs.Nonce, _inputs.Encrypt);

    [Benchmark]
    public OpenResult OpenVerifiedAndDecrypted() => _crypto.Open(_inputs.Signature, _inputs.Timestamp, _inputs.Nonce, _inputs.Encrypt, _inputs.CorpId);

    [Benchmark]
    public CallbackEnvelope? ReadEnvelopeXml() => CallbackEnvelope.TryParse(_envelope);

    [Benchmark]
    public CallbackEvent? ReadEventXml() => CallbackEvent.TryParse(_inputs.Message);

    [Benchmark]
    public SealedMessage Seal() => _crypto.Seal(_inputs.Message, _inputs.CorpId, _inputs.Timestamp, _inputs.Nonce);

    /// <summary>Everything a callback costs in crypto and parsing: envelope, signature, decryption, inner XML.</summary>
    [Benchmark(Baseline = true)]
    public string? WholeCallback()
    {
        var envelope = CallbackEnvelope.TryParse(_envelope)!;
        var opened = _crypto.Open(_inputs.Signature, _inputs.Timestamp, _inputs.Nonce, envelope.Encrypt, _inputs.CorpId);
        return CallbackEvent.TryParse(opened.Message)?.OpenKfId;
    }
}
