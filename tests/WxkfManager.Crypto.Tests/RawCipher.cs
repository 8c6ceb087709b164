using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using WxkfManager.Crypto;

namespace WxkfManager.Crypto.Tests;

/// <summary>Builds deliberately malformed ciphertexts straight from AES, bypassing the encoder under test.</summary>
internal static class RawCipher
{
    public static string EncryptPlain(EncodingAesKey key, byte[] plain)
    {
        using var aes = Aes.Create();
        aes.Key = key.Key.ToArray();
        return Convert.ToBase64String(aes.EncryptCbc(plain, key.Iv, PaddingMode.None));
    }

    public static byte[] Layout(string message, string receiveId, int? declaredLength = null, byte[]? receiveIdBytes = null, byte[]? messageBytes = null)
    {
        var msg = messageBytes ?? Encoding.UTF8.GetBytes(message);
        var rid = receiveIdBytes ?? Encoding.UTF8.GetBytes(receiveId);
        var body = new byte[16 + 4 + msg.Length + rid.Length];
        RandomNumberGenerator.Fill(body.AsSpan(0, 16));
        BinaryPrimitives.WriteInt32BigEndian(body.AsSpan(16), declaredLength ?? msg.Length);
        msg.CopyTo(body, 20);
        rid.CopyTo(body, 20 + msg.Length);
        return body;
    }

    public static byte[] Pad(byte[] body, int blockSize = 32, byte? padValueOverride = null)
    {
        var pad = blockSize - body.Length % blockSize;
        var padded = new byte[body.Length + pad];
        body.CopyTo(padded, 0);
        padded.AsSpan(body.Length).Fill(padValueOverride ?? (byte)pad);
        return padded;
    }
}
