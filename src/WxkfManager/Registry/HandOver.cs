namespace WxkfManager.Registry;

public enum DeregisterAction
{
    /// <summary>Nothing to do: the puppet is unknown in that corp, or already offline.</summary>
    None,

    /// <summary>The instance that registered last is stopping: the puppet goes offline now.</summary>
    GoOffline,

    /// <summary>An older instance is stopping; a newer one registered after it and keeps the events.</summary>
    KeepOnline,

    /// <summary>Cannot tell from the address alone: go offline only if the newest endpoint stops answering.</summary>
    ProbeNewest,
}

public sealed record DeregisterDecision(DeregisterAction Action, string Reason);

/// <summary>
/// Rolling restarts: the new instance of a puppet registers, then the old one deregisters the same kfId.
/// A deregister carries only {kfId, corpId}, so who is stopping is told by the caller's address, against
/// the instances that registered since the puppet was last offline. When in doubt it keeps delivering.
/// </summary>
public static class HandOver
{
    /// <summary>Instances remembered per puppet; older ones fall off (a fleet of restarts leaves no trail).</summary>
    public const int MaxInstances = 8;

    /// <summary>The instances after <paramref name="instance"/> registered: it becomes the newest.</summary>
    public static IReadOnlyList<PuppetInstance> AfterRegistration(PuppetRegistration? existing, PuppetInstance instance)
    {
        if (existing is null || !existing.Online)
        {
            return [instance];
        }
        // The same address at the same endpoint is the same instance registering again (a restart in place).
        return existing.Instances
            .Where(i => !(i.Address == instance.Address && SameEndpoint(i.Endpoint, instance.Endpoint)))
            .Append(instance)
            .TakeLast(MaxInstances)
            .ToArray();
    }

    public static DeregisterDecision OnDeregister(PuppetRegistration? current, string corpId, string callerAddress)
    {
        if (current is null || current.CorpId != corpId)
        {
            return new(DeregisterAction.None, "no such puppet is registered in that corp");
        }
        if (!current.Online)
        {
            return new(DeregisterAction.None, "the puppet is already offline");
        }
        if (current.Newest is not { } newest)
        {
            return new(DeregisterAction.GoOffline, "registered without instance records (by the original service)");
        }
        if (newest.Address != callerAddress)
        {
            return new(DeregisterAction.KeepOnline, $"a newer instance registered from {newest.Address} at {newest.RegisteredAt:O}");
        }
        var olderAtAnotherEndpoint = current.Instances
            .Take(current.Instances.Count - 1)
            .Any(i => i.Address == callerAddress && !SameEndpoint(i.Endpoint, newest.Endpoint));
        return olderAtAnotherEndpoint
            ? new(DeregisterAction.ProbeNewest, "an older instance of the same address at another endpoint may be the one stopping")
            : new(DeregisterAction.GoOffline, "the newest instance is stopping");
    }

    private static bool SameEndpoint(string left, string right) =>
        string.Equals(left.TrimEnd('/'), right.TrimEnd('/'), StringComparison.OrdinalIgnoreCase);
}
