using FsCheck;
using FsCheck.Fluent;
using WxkfManager.Crypto;

namespace WxkfManager.Crypto.Tests;

public sealed class RoundTripProperties
{
    private static readonly Config Runs = Config.QuickThrowOnFailure.WithMaxTest(300);

    // Well-formed UTF-16 only: a lone surrogate cannot be UTF-8 encoded, so it is not a message WeCom could send.
    private static Arbitrary<string> Messages() =>
        ArbMap.Default.ArbFor<string>().Filter(s => s is not null && !HasLoneSurrogate(s));

    private static bool HasLoneSurrogate(string s)
    {
        for (var i = 0; i < s.Length; i++)
        {
            if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(s[i]))
            {
                return true;
            }
        }
        return false;
    }

    [Fact]
    public void Seal_ThenOpen_ReturnsTheMessage_ForRandomKeysAndMessages()
    {
        Prop.ForAll(Messages(), ArbMap.Default.ArbFor<NonEmptyString>(), (message, receiveId) =>
        {
            var rid = receiveId.Get;
            if (HasLoneSurrogate(rid))
            {
                return true;
            }
            var crypto = new WeComCrypto("token", EncodingAesKey.Parse(EncodingAesKey.Generate()));
            var sealedMessage = crypto.Seal(message, rid, "1700000000", "nonce");
            var opened = crypto.Open(sealedMessage.Signature, "1700000000", "nonce", sealedMessage.Encrypt, rid);
            return opened.IsOk && opened.Message == message;
        }).Check(Runs);
    }

    [Fact]
    public void Open_OfRandomBase64_NeverThrowsAndNeverSucceeds()
    {
        var crypto = new WeComCrypto("token", EncodingAesKey.Parse(EncodingAesKey.Generate()));
        Prop.ForAll(ArbMap.Default.ArbFor<byte[]>(), bytes =>
        {
            var encrypt = Convert.ToBase64String(bytes ?? []);
            var signature = crypto.ComputeSignature("1", "2", encrypt);
            return !crypto.Open(signature, "1", "2", encrypt, "corp").IsOk;
        }).Check(Runs);
    }

    [Fact]
    public void Open_OfARandomlyFlippedCiphertext_NeverThrows()
    {
        var crypto = new WeComCrypto("token", EncodingAesKey.Parse(EncodingAesKey.Generate()));
        var original = Convert.FromBase64String(crypto.Seal("<xml><OpenKfId>wk1</OpenKfId></xml>", "corp", "1", "2").Encrypt);
        Prop.ForAll(ArbMap.Default.ArbFor<PositiveInt>(), ArbMap.Default.ArbFor<byte>(), (position, mask) =>
        {
            var mutated = (byte[])original.Clone();
            mutated[position.Get % mutated.Length] ^= (byte)(mask | 1);
            var encrypt = Convert.ToBase64String(mutated);
            var result = crypto.Open(crypto.ComputeSignature("1", "2", encrypt), "1", "2", encrypt, "corp");
            return Enum.IsDefined(result.Status);
        }).Check(Runs);
    }
}

public sealed class ReuseTests
{
    [Fact]
    public async Task OneInstance_OpensManyMessages_InSequenceAndInParallel()
    {
        var crypto = new WeComCrypto("token", EncodingAesKey.Parse(EncodingAesKey.Generate()));
        var sealedMessages = Enumerable.Range(0, 400)
            .Select(i => (Message: $"<xml><N>{i}</N>{new string('x', i % 97)}</xml>", Sealed: crypto.Seal($"<xml><N>{i}</N>{new string('x', i % 97)}</xml>", "corp", "1", i.ToString())))
            .ToList();
        var tampered = sealedMessages[0].Sealed.Encrypt[..^8] + "AAAAAAA=";

        foreach (var (message, sealedMessage) in sealedMessages)
        {
            Assert.Equal(message, crypto.Open(sealedMessage.Signature, "1", sealedMessage.Nonce, sealedMessage.Encrypt, "corp").Message);
            // A failure in between must not disturb the next decryption.
            Assert.False(crypto.Open(crypto.ComputeSignature("1", "x", tampered), "1", "x", tampered, "corp").IsOk);
        }
        var results = await Task.WhenAll(sealedMessages.Select(m => Task.Run(() =>
            crypto.Open(m.Sealed.Signature, "1", m.Sealed.Nonce, m.Sealed.Encrypt, "corp").Message == m.Message, TestContext.Current.CancellationToken)));
        Assert.All(results, Assert.True);
    }
}
