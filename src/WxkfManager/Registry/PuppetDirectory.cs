using System.Collections.Frozen;
using WxkfManager.Crypto;

namespace WxkfManager.Registry;

/// <summary>A registered puppet with its crypto ready, as the callback path needs it.</summary>
public sealed record PuppetEntry(PuppetRegistration Registration, WeComCrypto Crypto);

/// <summary>
/// The in-memory view of the registry that the callback path reads, so no callback waits on the store.
/// Writes through this replica apply at once; <see cref="RefreshAsync"/> reloads what other replicas wrote.
/// </summary>
public sealed class PuppetDirectory(IPuppetRegistry registry, TimeProvider time, ILogger<PuppetDirectory> logger)
{
    private static readonly TimeSpan MinimumMissRefreshInterval = TimeSpan.FromSeconds(1);

    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly Dictionary<string, PuppetEntry> _entries = new(StringComparer.Ordinal);
    private volatile Snapshot _snapshot = Snapshot.Empty;
    private long _lastMissRefreshTicks = long.MinValue;

    public int Count => _snapshot.ByKfId.Count;

    public int OnlineCount => _snapshot.ByKfId.Values.Count(e => e.Registration.Online);

    public PuppetEntry? Find(string kfId) => _snapshot.ByKfId.GetValueOrDefault(kfId);

    /// <summary>
    /// The distinct app credentials registered for a corp, online puppets' first and newest first:
    /// a corp may run several apps, and the one whose signature matches is the one that sent the callback.
    /// </summary>
    public IReadOnlyList<WeComCrypto> CredentialsFor(string corpId) =>
        _snapshot.CredentialsByCorp.TryGetValue(corpId, out var credentials) ? credentials : [];

    /// <summary>The corp secrets the corp's registered puppets gave, to check a getToken caller against.</summary>
    public IReadOnlyList<string> CorpSecretsFor(string corpId) =>
        _snapshot.SecretsByCorp.TryGetValue(corpId, out var secrets) ? secrets : [];

    /// <summary>The puppet registered under kfId in that corp, reloading once if this replica has not seen it.</summary>
    public async Task<PuppetRegistration?> FindInCorpAsync(string corpId, string kfId, CancellationToken cancellationToken)
    {
        var entry = Find(kfId);
        if (entry?.Registration.CorpId != corpId && await TryRefreshOnMissAsync(cancellationToken))
        {
            entry = Find(kfId);
        }
        return entry?.Registration.CorpId == corpId ? entry.Registration : null;
    }

    public async Task ApplyAsync(PuppetRegistration registration, CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken);
        try
        {
            _entries[registration.KfId] = ToEntry(registration, _entries.GetValueOrDefault(registration.KfId));
            _snapshot = Snapshot.Build(_entries.Values);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        // The store read happens under the lock so a write applied meanwhile is never overwritten by older data.
        await _writeLock.WaitAsync(cancellationToken);
        try
        {
            var registrations = await registry.ListAsync(cancellationToken);
            var previous = new Dictionary<string, PuppetEntry>(_entries, StringComparer.Ordinal);
            _entries.Clear();
            foreach (var registration in registrations)
            {
                _entries[registration.KfId] = ToEntry(registration, previous.GetValueOrDefault(registration.KfId));
            }
            _snapshot = Snapshot.Build(_entries.Values);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>
    /// Reloads when a callback names a puppet or corp this replica has not seen (it may have registered
    /// through another replica a moment ago); at most once a second, so unknown ids cannot hammer the store.
    /// </summary>
    public async Task<bool> TryRefreshOnMissAsync(CancellationToken cancellationToken)
    {
        var now = time.GetTimestamp();
        var last = Interlocked.Read(ref _lastMissRefreshTicks);
        if (last != long.MinValue && time.GetElapsedTime(last, now) < MinimumMissRefreshInterval)
        {
            return false;
        }
        if (Interlocked.CompareExchange(ref _lastMissRefreshTicks, now, last) != last)
        {
            return false;
        }
        try
        {
            await RefreshAsync(cancellationToken);
            return true;
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            logger.LogWarning(exception, "Reloading the registry after a miss failed");
            return false;
        }
    }

    private static PuppetEntry ToEntry(PuppetRegistration registration, PuppetEntry? previous)
    {
        var crypto = previous is not null
            && previous.Registration.Token == registration.Token
            && previous.Registration.EncodingAesKey == registration.EncodingAesKey
                ? previous.Crypto
                : WeComCrypto.Create(registration.Token, registration.EncodingAesKey);
        return new PuppetEntry(registration, crypto);
    }

    private sealed record Snapshot(
        FrozenDictionary<string, PuppetEntry> ByKfId,
        FrozenDictionary<string, WeComCrypto[]> CredentialsByCorp,
        FrozenDictionary<string, string[]> SecretsByCorp)
    {
        public static readonly Snapshot Empty = new(
            FrozenDictionary<string, PuppetEntry>.Empty,
            FrozenDictionary<string, WeComCrypto[]>.Empty,
            FrozenDictionary<string, string[]>.Empty);

        public static Snapshot Build(IEnumerable<PuppetEntry> entries)
        {
            var list = entries.ToList();
            var credentials = list
                .GroupBy(e => e.Registration.CorpId, StringComparer.Ordinal)
                .ToFrozenDictionary(
                    g => g.Key,
                    g => g.OrderByDescending(e => e.Registration.Online)
                          .ThenByDescending(e => e.Registration.RegisteredAt ?? DateTime.MinValue)
                          .DistinctBy(e => (e.Registration.Token, e.Registration.EncodingAesKey))
                          .Select(e => e.Crypto)
                          .ToArray(),
                    StringComparer.Ordinal);
            var secrets = list
                .GroupBy(e => e.Registration.CorpId, StringComparer.Ordinal)
                .ToFrozenDictionary(g => g.Key, g => g.Select(e => e.Registration.CorpSecret).Distinct().ToArray(), StringComparer.Ordinal);
            return new Snapshot(list.ToFrozenDictionary(e => e.Registration.KfId, StringComparer.Ordinal), credentials, secrets);
        }
    }
}
