namespace WxkfManager.Crypto;

/// <summary>
/// The 43-character EncodingAESKey a WeCom app is configured with: Base64 of a 32-byte AES-256 key,
/// written without its trailing '='.
/// </summary>
public sealed class EncodingAesKey
{
    public const int Length = 43;
    internal const int KeySize = 32;
    internal const int IvSize = 16;

    private readonly byte[] _key;

    private EncodingAesKey(byte[] key) => _key = key;

    internal ReadOnlySpan<byte> Key => _key;

    // WXBizMsgCrypt uses the first 16 key bytes as the CBC IV for every message.
    internal ReadOnlySpan<byte> Iv => _key.AsSpan(0, IvSize);

    public static bool TryParse(string? text, out EncodingAesKey? key, out string? error)
    {
        key = null;
        if (string.IsNullOrEmpty(text))
        {
            error = "encodingAESKey is required";
            return false;
        }
        if (text.Length != Length)
        {
            error = $"encodingAESKey must be {Length} characters, got {text.Length}";
            return false;
        }

        Span<byte> decoded = stackalloc byte[KeySize + 2];
        if (!Convert.TryFromBase64String(text + "=", decoded, out var written) || written != KeySize)
        {
            error = "encodingAESKey is not valid Base64 (A-Z, a-z, 0-9, + and /)";
            return false;
        }

        key = new EncodingAesKey(decoded[..KeySize].ToArray());
        error = null;
        return true;
    }

    public static EncodingAesKey Parse(string text) =>
        TryParse(text, out var key, out var error) ? key! : throw new FormatException(error);

    public static string Generate()
    {
        var bytes = System.Security.Cryptography.RandomNumberGenerator.GetBytes(KeySize);
        return Convert.ToBase64String(bytes).TrimEnd('=');
    }
}
