using System.Security.Cryptography;
using System.Text;
using WxkfManager.Crypto;

namespace WxkfManager.Crypto.Tests;

public sealed class RejectionTests
{
    private const string CorpId = "ww1234567890abcdef";
    private const string Timestamp = "1700000000";
    private const string Nonce = "n0nce";
    private static readonly string KeyText = EncodingAesKey.Generate();
    private static readonly EncodingAesKey Key = EncodingAesKey.Parse(KeyText);
    private static readonly WeComCrypto Crypto = new("tok", Key);

    private static OpenResult OpenSigned(string encrypt, string receiveId = CorpId) =>
        Crypto.Open(Crypto.ComputeSignature(Timestamp, Nonce, encrypt), Timestamp, Nonce, encrypt, receiveId);

    [Fact]
    public void Open_WithTamperedSignature_IsSignatureMismatch()
    {
        var sealedMessage = Crypto.Seal("<xml/>", CorpId, Timestamp, Nonce);
        var tampered = (sealedMessage.Signature[0] == 'a' ? "b" : "a") + sealedMessage.Signature[1..];

        var result = Crypto.Open(tampered, Timestamp, Nonce, sealedMessage.Encrypt, CorpId);

        Assert.Equal(OpenStatus.SignatureMismatch, result.Status);
        Assert.Null(result.Message);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("zz")]
    [InlineData("not-hex-not-hex-not-hex-not-hex-not-hex!")]
    public void Open_WithMalformedSignature_IsSignatureMismatch(string? signature)
    {
        var sealedMessage = Crypto.Seal("<xml/>", CorpId, Timestamp, Nonce);

        Assert.Equal(OpenStatus.SignatureMismatch, Crypto.Open(signature, Timestamp, Nonce, sealedMessage.Encrypt, CorpId).Status);
    }

    [Theory]
    [InlineData("1700000001", Nonce)]
    [InlineData(Timestamp, "other")]
    public void Open_WithChangedTimestampOrNonce_IsSignatureMismatch(string timestamp, string nonce)
    {
        var sealedMessage = Crypto.Seal("<xml/>", CorpId, Timestamp, Nonce);

        Assert.Equal(OpenStatus.SignatureMismatch, Crypto.Open(sealedMessage.Signature, timestamp, nonce, sealedMessage.Encrypt, CorpId).Status);
    }

    [Fact]
    public void Open_WithUppercaseSignature_IsAccepted()
    {
        var sealedMessage = Crypto.Seal("<xml/>", CorpId, Timestamp, Nonce);

        Assert.True(Crypto.Open(sealedMessage.Signature.ToUpperInvariant(), Timestamp, Nonce, sealedMessage.Encrypt, CorpId).IsOk);
    }

    [Theory]
    [InlineData("not base64 at all!")]
    [InlineData("QUJD=")]
    [InlineData("%%%%")]
    public void Open_WithBadBase64_IsInvalidBase64(string encrypt)
    {
        Assert.Equal(OpenStatus.InvalidBase64, OpenSigned(encrypt).Status);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(16)]
    [InlineData(48)]
    [InlineData(33)]
    public void Open_WithLengthOffTheBlock_IsInvalidCipherLength(int length)
    {
        var encrypt = Convert.ToBase64String(RandomNumberGenerator.GetBytes(length));

        Assert.Equal(OpenStatus.InvalidCipherLength, OpenSigned(encrypt).Status);
    }

    [Theory]
    [InlineData((byte)0)]
    [InlineData((byte)33)]
    [InlineData((byte)255)]
    public void Open_WithPadValueOutOfRange_IsInvalidPadding(byte padValue)
    {
        var plain = RawCipher.Pad(RawCipher.Layout("<xml/>", CorpId), padValueOverride: padValue);

        Assert.Equal(OpenStatus.InvalidPadding, OpenSigned(RawCipher.EncryptPlain(Key, plain)).Status);
    }

    [Fact]
    public void Open_WithInconsistentPadBytes_IsInvalidPadding()
    {
        var plain = RawCipher.Pad(RawCipher.Layout("<xml/>", CorpId));
        var pad = plain[^1];
        Assert.True(pad >= 2, "the layout must leave at least two pad bytes");
        plain[^pad] ^= 0x01;

        Assert.Equal(OpenStatus.InvalidPadding, OpenSigned(RawCipher.EncryptPlain(Key, plain)).Status);
    }

    [Theory]
    [InlineData(10_000)]
    [InlineData(-1)]
    [InlineData(int.MaxValue)]
    public void Open_WithOverrunningMessageLength_IsInvalidMessageLength(int declaredLength)
    {
        var plain = RawCipher.Pad(RawCipher.Layout("<xml/>", CorpId, declaredLength));

        Assert.Equal(OpenStatus.InvalidMessageLength, OpenSigned(RawCipher.EncryptPlain(Key, plain)).Status);
    }

    [Fact]
    public void Open_WithPlaintextShorterThanHeader_IsInvalidMessageLength()
    {
        var plain = RawCipher.Pad(new byte[5]);

        Assert.Equal(OpenStatus.InvalidMessageLength, OpenSigned(RawCipher.EncryptPlain(Key, plain)).Status);
    }

    [Fact]
    public void Open_ForAnotherReceiveId_IsReceiveIdMismatch()
    {
        var sealedMessage = Crypto.Seal("<xml/>", "ww-other-corp", Timestamp, Nonce);

        var result = Crypto.Open(sealedMessage.Signature, Timestamp, Nonce, sealedMessage.Encrypt, CorpId);

        Assert.Equal(OpenStatus.ReceiveIdMismatch, result.Status);
        Assert.Null(result.Message);
    }

    [Fact]
    public void Open_WithReceiveIdThatIsAPrefix_IsReceiveIdMismatch()
    {
        var sealedMessage = Crypto.Seal("<xml/>", CorpId + "x", Timestamp, Nonce);

        Assert.Equal(OpenStatus.ReceiveIdMismatch, Crypto.Open(sealedMessage.Signature, Timestamp, Nonce, sealedMessage.Encrypt, CorpId).Status);
    }

    [Fact]
    public void Open_WithInvalidUtf8_IsInvalidUtf8()
    {
        var plain = RawCipher.Pad(RawCipher.Layout("", CorpId, messageBytes: [0xC3, 0x28, 0xFF]));

        Assert.Equal(OpenStatus.InvalidUtf8, OpenSigned(RawCipher.EncryptPlain(Key, plain)).Status);
    }

    [Fact]
    public void Open_WithWrongKey_NeverThrows()
    {
        var other = new WeComCrypto("tok", EncodingAesKey.Parse(EncodingAesKey.Generate()));
        var sealedMessage = Crypto.Seal("<xml>hello</xml>", CorpId, Timestamp, Nonce);

        var result = other.Open(sealedMessage.Signature, Timestamp, Nonce, sealedMessage.Encrypt, CorpId);

        Assert.False(result.IsOk);
    }

    [Fact]
    public void EveryStatus_HasADescription()
    {
        foreach (var status in Enum.GetValues<OpenStatus>())
        {
            Assert.NotEqual(status.ToString(), status.Describe());
        }
    }

    [Fact]
    public void Encrypt_PadsToThe32ByteBlock_WithPadValuesUpTo32()
    {
        // A body that is already block-aligned must get a full block of 32 pad bytes.
        var receiveId = new string('r', 32 - 20 - Encoding.UTF8.GetByteCount("<x/>") + 32);
        var encrypt = Crypto.Encrypt("<x/>", receiveId, new byte[16]);

        Assert.Equal(0, Convert.FromBase64String(encrypt).Length % 32);
        Assert.True(OpenSigned(encrypt, receiveId).IsOk);
    }
}
