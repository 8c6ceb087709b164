using System.Security.Cryptography;
using System.Text;

namespace WxkfManager.Security;

/// <summary>
/// AES-GCM for secrets at rest. A protected value is "enc:v1:" + Base64(nonce | ciphertext | tag); values
/// without the prefix are read as they are, so a database written before the key was set keeps working.
/// </summary>
public sealed class SecretProtector
{
    public const string Prefix = "enc:v1:";
    private const int NonceSize = 12;
    private const int TagSize = 16;

    private readonly byte[] _key;

    public SecretProtector(string base64Key)
    {
        if (!IsValidKey(base64Key))
        {
            throw new ArgumentException("the key must be Base64 of exactly 32 bytes", nameof(base64Key));
        }
        _key = Convert.FromBase64String(base64Key);
    }

    public static bool IsValidKey(string base64Key)
    {
        Span<byte> buffer = stackalloc byte[64];
        return Convert.TryFromBase64String(base64Key, buffer, out var written) && written == 32;
    }

    public string Protect(string plaintext)
    {
        var plain = Encoding.UTF8.GetBytes(plaintext);
        var output = new byte[NonceSize + plain.Length + TagSize];
        var nonce = output.AsSpan(0, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(_key, TagSize);
        aes.Encrypt(nonce, plain, output.AsSpan(NonceSize, plain.Length), output.AsSpan(NonceSize + plain.Length, TagSize));
        return Prefix + Convert.ToBase64String(output);
    }

    public string Unprotect(string stored)
    {
        ArgumentNullException.ThrowIfNull(stored);
        if (!stored.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return stored;
        }
        var input = Convert.FromBase64String(stored[Prefix.Length..]);
        if (input.Length < NonceSize + TagSize)
        {
            throw new CryptographicException("protected secret is truncated");
        }
        var plain = new byte[input.Length - NonceSize - TagSize];
        using var aes = new AesGcm(_key, TagSize);
        aes.Decrypt(input.AsSpan(0, NonceSize), input.AsSpan(NonceSize, plain.Length), input.AsSpan(NonceSize + plain.Length), plain);
        return Encoding.UTF8.GetString(plain);
    }
}
