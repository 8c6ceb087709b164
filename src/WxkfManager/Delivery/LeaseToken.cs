namespace WxkfManager.Delivery;

/// <summary>
/// Each claim's own lease token: the worker's id and a random part. A completion names the token of the
/// claim it finishes, so a worker whose lease ran out and was claimed again (even by itself) cannot
/// finish the newer claim's record.
/// </summary>
public static class LeaseToken
{
    public static string New(string owner) => $"{owner}/{Guid.NewGuid():N}";
}
