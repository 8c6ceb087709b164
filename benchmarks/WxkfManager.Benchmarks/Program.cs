using System.Diagnostics;
using BenchmarkDotNet.Running;
using WxkfManager.Benchmarks;
using WxkfManager.Crypto;

// --inputs FILE: write the shared inputs for the Node comparison.
// --throughput SECONDS: verify-and-decrypt operations per second, the figure compared with @wecom/crypto.
// Anything else goes to BenchmarkDotNet (e.g. --filter '*' --job short).
if (args is ["--inputs", var file])
{
    await File.WriteAllTextAsync(file, CryptoInputs.Create().ToJson());
    return 0;
}
if (args is ["--throughput", var secondsText])
{
    var inputs = CryptoInputs.Create();
    var crypto = WeComCrypto.Create(inputs.Token, inputs.EncodingAesKey);
    var seconds = double.Parse(secondsText, System.Globalization.CultureInfo.InvariantCulture);
    for (var i = 0; i < 20_000; i++)
    {
        crypto.Open(inputs.Signature, inputs.Timestamp, inputs.Nonce, inputs.Encrypt, inputs.CorpId);
    }
    long operations = 0;
    var started = Stopwatch.GetTimestamp();
    while (Stopwatch.GetElapsedTime(started).TotalSeconds < seconds)
    {
        for (var i = 0; i < 1000; i++)
        {
            if (!crypto.Open(inputs.Signature, inputs.Timestamp, inputs.Nonce, inputs.Encrypt, inputs.CorpId).IsOk)
            {
                throw new InvalidOperationException("the inputs do not open");
            }
        }
        operations += 1000;
    }
    Console.WriteLine((operations / Stopwatch.GetElapsedTime(started).TotalSeconds).ToString("F0", System.Globalization.CultureInfo.InvariantCulture));
    return 0;
}
BenchmarkSwitcher.FromAssembly(typeof(CryptoBenchmarks).Assembly).Run(args);
return 0;
