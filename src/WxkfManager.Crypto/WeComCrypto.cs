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
    // Aes objects are not thread-safe, but setting up a key costs more than the decryption itself: keep a few,
    // in pools made on first use, since a manager holds one of these per registered app.
    private static readonly int PoolSize = Environment.ProcessorCount * 2;
    private SlotPool<Aes>? _aesPool;
    private SlotPool<ICryptoTransform>? _decryptorPool;

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

        var aes = RentAes();
        try
        {
            return Convert.ToBase64String(aes.EncryptCbc(plain, key.Iv, PaddingMode.None));
        }
        finally
        {
            ReturnAes(aes);
        }
    }

    internal OpenResult Decrypt(string encrypt, string expectedReceiveId)
    {
        var maxCipherLength = encrypt.Length / 4 * 3 + 3;
        var cipher = ArrayPool<byte>.Shared.Rent(maxCipherLength);
        var plain = ArrayPool<byte>.Shared.Rent(maxCipherLength);
        var usedPlain = 0;
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

            var decryptor = RentDecryptor();
            int plainLength;
            try
            {
                plainLength = decryptor.TransformBlock(cipher, 0, cipherLength, plain, 0);
            }
            finally
            {
                ReturnDecryptor(decryptor);
            }
            usedPlain = plainLength;
            return ReadPlaintext(plain.AsSpan(0, plainLength), expectedReceiveId);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plain.AsSpan(0, usedPlain));
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

        // The receive id is compared as bytes: equal bytes are the expected id's valid UTF-8, no string needed.
        var receiveId = body[messageLength..];
        var expectedLength = Encoding.UTF8.GetByteCount(expectedReceiveId);
        if (receiveId.Length != expectedLength)
        {
            return OpenResult.Fail(OpenStatus.ReceiveIdMismatch);
        }
        Span<byte> expected = expectedLength <= 256 ? stackalloc byte[expectedLength] : new byte[expectedLength];
        Encoding.UTF8.GetBytes(expectedReceiveId, expected);
        if (!receiveId.SequenceEqual(expected))
        {
            return OpenResult.Fail(OpenStatus.ReceiveIdMismatch);
        }

        try
        {
            return new OpenResult(OpenStatus.Ok, StrictUtf8.GetString(body[..messageLength]));
        }
        catch (DecoderFallbackException)
        {
            return OpenResult.Fail(OpenStatus.InvalidUtf8);
        }
    }

    private void HashSignature(string timestamp, string nonce, string encrypt, Span<byte> destination)
    {
        Span<int> order = [0, 1, 2, 3];
        ReadOnlySpan<string> parts = [Token, timestamp ?? "", nonce ?? "", encrypt ?? ""];
        // Insertion sort of four: ordinal, as WXBizMsgCrypt sorts them.
        for (var i = 1; i < order.Length; i++)
        {
            for (var j = i; j > 0 && string.CompareOrdinal(parts[order[j - 1]], parts[order[j]]) > 0; j--)
            {
                (order[j - 1], order[j]) = (order[j], order[j - 1]);
            }
        }
        var length = 0;
        foreach (var part in parts)
        {
            length += Encoding.UTF8.GetMaxByteCount(part.Length);
        }
        var buffer = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            var written = 0;
            foreach (var index in order)
            {
                written += Encoding.UTF8.GetBytes(parts[index], buffer.AsSpan(written));
            }
            // WeCom's msg_signature is SHA1 by protocol (WXBizMsgCrypt); we must compute what WeCom computes.
#pragma warning disable CA5350
            SHA1.HashData(buffer.AsSpan(0, written), destination);
#pragma warning restore CA5350
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private Aes RentAes()
    {
        if (AesPool.TryTake() is { } aes)
        {
            return aes;
        }
        aes = Aes.Create();
        aes.Key = key.Key.ToArray();
        return aes;
    }

    // A CBC decryptor with its key schedule already set up; TransformFinalBlock resets it to the IV for the next message.
    private ICryptoTransform RentDecryptor()
    {
        if (DecryptorPool.TryTake() is { } decryptor)
        {
            return decryptor;
        }
        using var aes = Aes.Create();
        aes.Mode = CipherMode.CBC;
        aes.Padding = PaddingMode.None;
        return aes.CreateDecryptor(key.Key.ToArray(), key.Iv.ToArray());
    }

    private void ReturnDecryptor(ICryptoTransform decryptor)
    {
        decryptor.TransformFinalBlock([], 0, 0);
        DecryptorPool.Return(decryptor);
    }

    private void ReturnAes(Aes aes) => AesPool.Return(aes);

    private SlotPool<Aes> AesPool => LazyInitializer.EnsureInitialized(ref _aesPool, static () => new SlotPool<Aes>(PoolSize));

    private SlotPool<ICryptoTransform> DecryptorPool =>
        LazyInitializer.EnsureInitialized(ref _decryptorPool, static () => new SlotPool<ICryptoTransform>(PoolSize));
}
