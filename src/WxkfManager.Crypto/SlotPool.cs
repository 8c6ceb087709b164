namespace WxkfManager.Crypto;

/// <summary>
/// A few reusable objects in fixed slots, taken and put back with one interlocked operation each. Created only
/// when first used and without per-thread storage or finalizers, so an app credential that has not decrypted
/// anything costs one null reference for it.
/// </summary>
internal sealed class SlotPool<T>(int size) where T : class, IDisposable
{
    private readonly T?[] _slots = new T?[size];

    public T? TryTake()
    {
        for (var i = 0; i < _slots.Length; i++)
        {
            if (Volatile.Read(ref _slots[i]) is not null && Interlocked.Exchange(ref _slots[i], null) is { } item)
            {
                return item;
            }
        }
        return null;
    }

    /// <summary>Keeps the item in a free slot, or disposes it when every slot is full.</summary>
    public void Return(T item)
    {
        for (var i = 0; i < _slots.Length; i++)
        {
            if (Interlocked.CompareExchange(ref _slots[i], item, null) is null)
            {
                return;
            }
        }
        item.Dispose();
    }
}
