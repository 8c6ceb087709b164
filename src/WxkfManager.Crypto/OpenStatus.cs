namespace WxkfManager.Crypto;

/// <summary>Why a signed, encrypted WeCom payload was or was not opened.</summary>
public enum OpenStatus
{
    Ok,
    SignatureMismatch,
    InvalidBase64,
    InvalidCipherLength,
    InvalidPadding,
    InvalidMessageLength,
    InvalidUtf8,
    ReceiveIdMismatch,
}

public static class OpenStatusExtensions
{
    public static string Describe(this OpenStatus status) => status switch
    {
        OpenStatus.Ok => "ok",
        OpenStatus.SignatureMismatch => "msg_signature does not match",
        OpenStatus.InvalidBase64 => "encrypted payload is not valid Base64",
        OpenStatus.InvalidCipherLength => "encrypted payload length is not a multiple of the 32-byte block",
        OpenStatus.InvalidPadding => "encrypted payload has invalid padding",
        OpenStatus.InvalidMessageLength => "encrypted payload declares a message length that overruns it",
        OpenStatus.InvalidUtf8 => "decrypted message is not valid UTF-8",
        OpenStatus.ReceiveIdMismatch => "encrypted payload is addressed to another receive id",
        _ => status.ToString(),
    };
}

/// <summary>The outcome of <see cref="WeComCrypto.Open"/>; <see cref="Message"/> is set only when <see cref="Status"/> is Ok.</summary>
public readonly record struct OpenResult(OpenStatus Status, string? Message)
{
    public bool IsOk => Status == OpenStatus.Ok;

    internal static OpenResult Fail(OpenStatus status) => new(status, null);
}

/// <summary>An encrypted message and the msg_signature WeCom would send with it.</summary>
public readonly record struct SealedMessage(string Encrypt, string Signature, string Timestamp, string Nonce);
