using WxkfManager.Registry;

namespace WxkfManager.Tests.Registry;

/// <summary>An in-memory store with a change marker that moves a millisecond per write.</summary>
internal sealed class FakeRegistry : IPuppetRegistry
{
    private readonly Dictionary<string, (PuppetRegistration Registration, DateTime Marker)> _rows = new();

    public List<UnloadableRegistration> Faults { get; } = [];
    public DateTime Marker { get; private set; } = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
    public DateTime? LastSince { get; private set; }
    public bool Down { get; set; }

    /// <summary>Every read the directory made of the store.</summary>
    public int Reads { get; private set; }

    /// <summary>Reads of one puppet (<see cref="FindAsync"/>) among them.</summary>
    public int Finds { get; private set; }

    /// <summary>Awaited by <see cref="FindAsync"/> after it has read its row and before it answers: a write can land in between.</summary>
    public Func<Task>? BeforeFindAnswers { get; set; }

    public PuppetRegistration Add(PuppetRegistration registration)
    {
        Marker = Marker.AddMilliseconds(1);
        _rows[registration.KfId] = (registration, Marker);
        return registration;
    }

    public void Remove(string kfId) => _rows.Remove(kfId);

    public Task InitializeAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task<PuppetRegistration> UpsertAsync(PuppetRegistration registration, CancellationToken cancellationToken) =>
        Task.FromResult(Add(registration with { Online = true }));

    public Task<PuppetRegistration?> MarkOfflineAsync(string kfId, string corpId, DateTime at, CancellationToken cancellationToken) =>
        Task.FromResult(_rows.TryGetValue(kfId, out var row) ? Add(row.Registration with { Online = false, LastOnlineDate = at }) : null);

    public Task<PuppetRegistration?> MarkOfflineIfLatestAsync(PuppetRegistration seen, DateTime at, CancellationToken cancellationToken) =>
        Task.FromResult(_rows.TryGetValue(seen.KfId, out var row) && row.Registration.Online && row.Registration.RegisteredAt == seen.RegisteredAt
            ? Add(row.Registration with { Online = false, LastOnlineDate = at })
            : null);

    public async Task<PuppetRegistration?> FindAsync(string kfId, CancellationToken cancellationToken)
    {
        Reads++;
        Finds++;
        if (Down)
        {
            throw new TimeoutException("store down");
        }
        var found = _rows.TryGetValue(kfId, out var row) ? row.Registration : null;
        if (BeforeFindAnswers is { } pause)
        {
            await pause();
        }
        return found;
    }

    public Task<IReadOnlyList<PuppetRegistration>> ListAsync(CancellationToken cancellationToken)
    {
        Reads++;
        return Task.FromResult<IReadOnlyList<PuppetRegistration>>(_rows.Values.Select(r => r.Registration).ToList());
    }

    public Task<RegistryChanges> ReadChangesAsync(DateTime? since, CancellationToken cancellationToken)
    {
        Reads++;
        LastSince = since;
        var rows = _rows.Values.Where(r => since is null || r.Marker >= since).ToList();
        return Task.FromResult(new RegistryChanges(
            rows.Select(r => r.Registration).ToList(), since is null ? Faults : [], rows.Count == 0 ? since : rows.Max(r => r.Marker), since is null));
    }

    public Task PingAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
