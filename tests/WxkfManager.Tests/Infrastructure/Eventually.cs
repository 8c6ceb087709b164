namespace WxkfManager.Tests.Infrastructure;

/// <summary>Waits for what a running manager does on its own (a delivery, a dead letter), probing until it shows.</summary>
public static class Eventually
{
    /// <summary>The probe's first non-null answer; a <see cref="TimeoutException"/> after <paramref name="timeout"/> (15 s unless given).</summary>
    public static async Task<T> WaitForAsync<T>(Func<Task<T?>> probe, TimeSpan? timeout = null) where T : struct
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(15));
        while (true)
        {
            if (await probe() is { } value)
            {
                return value;
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("condition not met in time");
            }
            await Task.Delay(100, Ct);
        }
    }

    /// <summary>Polls <paramref name="condition"/> every 20 ms; fails the test, naming <paramref name="what"/>, after 10 s.</summary>
    public static async Task TrueAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = System.Diagnostics.Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(10), $"waited 10 s for this: {what}");
            await Task.Delay(20, Ct);
        }
    }
}
