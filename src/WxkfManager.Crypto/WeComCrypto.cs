using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace WxkfManager.Crypto;

/// <summary>
/// WXBizMsgCrypt-compatible crypto for one WeCom app (its Token and EncodingAESKey).
/// Pure: no I/O, no logging, and hostile input yields a status instead of an exception.
/// </summary>
public sealed class WeComCrypto(string token, EncodingAesKey key)
{
    private const int BlockSize = 32;
    private const int RandomSize = 16;
    private const int LengthSize = 4;
    private const int SignatureSize = 20;
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public string Token { get; } = token ?? throw new ArgumentNullException(nameof(token));

    public static WeComCrypto Create(string token, string encodingAesKey) => new(token, EncodingAesKey.Parse(encodingAesKey));

    /// <summary>Lowercase hex SHA1 of token, timestamp, nonce and encrypt, sorted in ordinal order and concatenated.</summary>
    public string ComputeSignature(string timestamp, string nonce, string encrypt)
    {
        Span<byte> hash = stackalloc byte[SignatureSize];
        HashSignature(timestamp, nonce, encrypt, hash);
        return Convert.ToHexStringLower(hash);
    }

    public bool VerifySignature(string? signature, string timestamp, string nonce, string encrypt)
    {
        Span<byte> provided = stackalloc byte[SignatureSize];
        if (signature is null || signature.Length != SignatureSize * 2
            || Convert.FromHexString(signature, provided, out _, out var written) != OperationStatus.Done
            || written != SignatureSize)
        {
            return false;
        }
        Span<byte> expected = stackalloc byte[SignatureSize];
        HashSignature(timestamp, nonce, encrypt, expected);
        return CryptographicOperations.FixedTimeEquals(expected, provided);
    }

    /// <summary>
    /// Verifies the signature, then decrypts and checks the receive id: the only way in, so a caller
    /// cannot decrypt a payload it has not verified.
    /// </summary>
    public OpenResult Open(string? signature, string timestamp, string nonce, string encrypt, string expectedReceiveId)
    {
        if (!VerifySignature(signature, timestamp, nonce, encrypt))
        {
            return OpenResult.Fail(OpenStatus.SignatureMismatch);
        }
        return Decrypt(encrypt, expectedReceiveId);
    }

    public SealedMessage Seal(string message, string receiveId, string timestamp, string nonce)
    {
        Span<byte> random = stackalloc byte[RandomSize];
        RandomNumberGenerator.Fill(random);
        var encrypt = Encrypt(message, receiveId, random);
        return new SealedMessage(encrypt, ComputeSignature(timestamp, nonce, encrypt), timestamp, nonce);
    }

    internal string Encrypt(string message, string receiveId, ReadOnlySpan<byte> random)
    {
        if (random.Length != RandomSize)
        {
            throw new ArgumentException($"random prefix must be {RandomSize} bytes", nameof(random));
        }
        var messageLength = Encoding.UTF8.GetByteCount(message);
        var unpadded = RandomSize + LengthSize + messageLength + Encoding.UTF8.GetByteCount(receiveId);
        var pad = BlockSize - unpadded % BlockSize;
        var plain = new byte[unpadded + pad];

        random.CopyTo(plain);
        BinaryPrimitives.WriteInt32BigEndian(plain.AsSpan(RandomSize), messageLength);
        var offset = RandomSize + LengthSize;
        offset += Encoding.UTF8.GetBytes(message, plain.AsSpan(offset));
        offset += Encoding.UTF8.GetBytes(receiveId, plain.AsSpan(offset));
        plain.AsSpan(offset).Fill((byte)pad);

        using var aes = CreateAes();
        return Convert.ToBase64String(aes.EncryptCbc(plain, key.Iv, PaddingMode.None));
    }

    internal OpenResult Decrypt(string encrypt, string expectedReceiveId)
    {
        var maxCipherLength = encrypt.Length / 4 * 3 + 3;
        var cipher = ArrayPool<byte>.Shared.Rent(maxCipherLength);
        var plain = ArrayPool<byte>.Shared.Rent(maxCipherLength);
        try
        {
            if (!Convert.TryFromBase64String(encrypt, cipher, out var cipherLength))
            {
                return OpenResult.Fail(OpenStatus.InvalidBase64);
            }
            if (cipherLength == 0 || cipherLength % BlockSize != 0)
            {
                return OpenResult.Fail(OpenStatus.InvalidCipherLength);
            }

            using var aes = CreateAes();
            var plainLength = aes.DecryptCbc(cipher.AsSpan(0, cipherLength), key.Iv, plain, PaddingMode.None);
            return ReadPlaintext(plain.AsSpan(0, plainLength), expectedReceiveId);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plain);
            ArrayPool<byte>.Shared.Return(cipher);
            ArrayPool<byte>.Shared.Return(plain);
        }
    }

    private static OpenResult ReadPlaintext(ReadOnlySpan<byte> plain, string expectedReceiveId)
    {
        int pad = plain[^1];
        if (pad is < 1 or > BlockSize || plain[^pad..].IndexOfAnyExcept((byte)pad) >= 0)
        {
            return OpenResult.Fail(OpenStatus.InvalidPadding);
        }
        var content = plain[..^pad];
        if (content.Length < RandomSize + LengthSize)
        {
            return OpenResult.Fail(OpenStatus.InvalidMessageLength);
        }

        var messageLength = BinaryPrimitives.ReadInt32BigEndian(content.Slice(RandomSize, LengthSize));
        var body = content[(RandomSize + LengthSize)..];
        if (messageLength < 0 || messageLength > body.Length)
        {
            return OpenResult.Fail(OpenStatus.InvalidMessageLength);
        }

        string message;
        string receiveId;
        try
        {
            message = StrictUtf8.GetString(body[..messageLength]);
            receiveId = StrictUtf8.GetString(body[messageLength..]);
        }
        catch (DecoderFallbackException)
        {
            return OpenResult.Fail(OpenStatus.InvalidUtf8);
        }

        return string.Equals(receiveId, expectedReceiveId, StringComparison.Ordinal)
            ? new OpenResult(OpenStatus.Ok, message)
            : OpenResult.Fail(OpenStatus.ReceiveIdMismatch);
    }

    private void HashSignature(string timestamp, string nonce, string encrypt, Span<byte> destination)
    {
        string[] parts = [Token, timestamp ?? "", nonce ?? "", encrypt ?? ""];
        Array.Sort(parts, StringComparer.Ordinal);
        SHA1.HashData(Encoding.UTF8.GetBytes(string.Concat(parts)), destination);
    }

    private Aes CreateAes()
    {
        var aes = Aes.Create();
        aes.Key = key.Key.ToArray();
        return aes;
    }
}
