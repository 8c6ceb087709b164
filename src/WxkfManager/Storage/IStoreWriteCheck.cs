namespace WxkfManager.Storage;

/// <summary>Whether the store would take a write now; reads can succeed on a store that cannot (a locked file, a full disk).</summary>
public interface IStoreWriteCheck
{
    /// <summary>Why a write would fail now, or null.</summary>
    Task<string?> WhyNotWritableAsync(CancellationToken cancellationToken);
}

/// <summary>MongoDB answers a write or fails it within its server-selection timeout: the registry's ping says enough.</summary>
public sealed class NoWriteCheck : IStoreWriteCheck
{
    public Task<string?> WhyNotWritableAsync(CancellationToken cancellationToken) => Task.FromResult<string?>(null);
}
