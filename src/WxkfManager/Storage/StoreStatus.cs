namespace WxkfManager.Storage;

/// <summary>
/// Whether the store has been initialised (schema or indexes made, registry loaded). Until then /ready says
/// why not and callbacks are refused with 503, which WeCom resends, rather than 404 for a corp not yet loaded.
/// </summary>
public sealed class StoreStatus
{
    private volatile string? _notReadyReason = "store not initialised yet";

    public bool IsReady => _notReadyReason is null;

    public string? NotReadyReason => _notReadyReason;

    public void MarkReady() => _notReadyReason = null;

    public void MarkNotReady(string reason) => _notReadyReason = reason;
}
