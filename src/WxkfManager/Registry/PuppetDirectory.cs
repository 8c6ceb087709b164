using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using WxkfManager.Crypto;
using WxkfManager.Settings;

namespace WxkfManager.Registry;

/// <summary>A registered puppet with its crypto ready, as the callback path needs it.</summary>
public sealed record PuppetEntry(PuppetRegistration Registration, WeComCrypto Crypto);

/// <summary>
/// The in-memory view of the registry that the callback path reads, so no callback waits on the store.
/// Changes apply per entry: a change touches its puppet and its corp's credential list, never the whole
/// fleet. Writes through this replica apply at once; <see cref="CatchUpAsync"/> applies what other replicas
/// wrote since the last look (by the store's change marker), <see cref="RefreshAsync"/> reloads everything.
/// A registration that cannot become an entry is skipped with one warning and listed in <see cref="Unloadable"/>.
/// kfIds and corps the store did not have are remembered for a short while (<see cref="RecentMisses"/>), so
/// callbacks naming them do not cost a store read each; applying a registration forgets its kfId and corp.
/// </summary>
// _writeLock never hands out its wait handle, so disposing it frees nothing; a Dispose would only turn a
// late caller during shutdown (a hosted service stopping after the container) into an ObjectDisposedException.
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "SemaphoreSlim without AvailableWaitHandle; see above.")]
public sealed class PuppetDirectory(
    IPuppetRegistry registry, TimeProvider time, ILogger<PuppetDirectory> logger, IOptions<RegistrationOptions>? options = null)
{
    private static readonly TimeSpan MinimumMissRefreshInterval = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How far back each catch-up reads before the newest marker it saw: a write stamped just before that
    /// marker may become visible just after the read. Re-read entries that did not change cost nothing.
    /// </summary>
    internal static readonly TimeSpan ChangeOverlap = TimeSpan.FromSeconds(5);

    /// <summary>One WeCom app's credentials; its puppets share one <see cref="WeComCrypto"/>.</summary>
    private readonly record struct AppKey(string Token, string EncodingAesKey);

    // Apps[i] is the key of Credentials[i].
    private sealed record CorpView(string CorpId, WeComCrypto[] Credentials, AppKey[] Apps, string[] Secrets, int PuppetCount);

    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly ConcurrentDictionary<string, PuppetEntry> _byKfId = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, CorpView> _byCorp = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, UnloadableRegistration> _unloadable = new(StringComparer.Ordinal);
    // Written under the lock only.
    private readonly Dictionary<string, HashSet<string>> _kfIdsByCorp = new(StringComparer.Ordinal);
    private readonly RecentMisses _unknownKfIds = MissesOf(options, time);
    private readonly RecentMisses _unknownCorps = MissesOf(options, time);
    private DateTime? _marker;
    private long _lastMissRefreshTicks = long.MinValue;

    public int Count => _byKfId.Count;

    public int OnlineCount => _byKfId.Values.Count(e => e.Registration.Online);

    /// <summary>Stored registrations this replica cannot serve, by kfOpenId, with the field at fault.</summary>
    public IReadOnlyList<UnloadableRegistration> Unloadable =>
        [.. _unloadable.Values.OrderBy(u => u.KfId, StringComparer.Ordinal)];

    public PuppetEntry? Find(string kfId) => _byKfId.GetValueOrDefault(kfId);

    /// <summary>
    /// The distinct app credentials registered for a corp, online puppets' first and newest first:
    /// a corp may run several apps, and the one whose signature matches is the one that sent the callback.
    /// </summary>
    public IReadOnlyList<WeComCrypto> CredentialsFor(string corpId) =>
        _byCorp.TryGetValue(corpId, out var corp) ? corp.Credentials : [];

    /// <summary>How many puppets (online or not) this replica knows in the corp.</summary>
    public int CountInCorp(string corpId) => _byCorp.TryGetValue(corpId, out var corp) ? corp.PuppetCount : 0;

    /// <summary>The corp secrets the corp's registered puppets gave, to check a getToken caller against.</summary>
    public IReadOnlyList<string> CorpSecretsFor(string corpId) =>
        _byCorp.TryGetValue(corpId, out var corp) ? corp.Secrets : [];

    /// <summary>The puppet registered under kfId in that corp, catching up once if this replica has not seen it.</summary>
    public async Task<PuppetRegistration?> FindInCorpAsync(string corpId, string kfId, CancellationToken cancellationToken)
    {
        var entry = Find(kfId);
        if (entry?.Registration.CorpId != corpId && await TryRefreshOnMissAsync(corpId, cancellationToken))
        {
            entry = Find(kfId);
        }
        return entry?.Registration.CorpId == corpId ? entry.Registration : null;
    }

    /// <summary>
    /// Reads one puppet from the store before something is given up on because this replica thinks it
    /// offline or unknown: another replica may have registered it again a moment ago. Applies what it
    /// finds; when the store does not answer, this replica's view stands. A kfId the store did not have online in
    /// that corp is not read again for <see cref="RegistrationOptions.MissCacheDuration"/>, unless a registration
    /// of it is applied meanwhile: until then only the rate-limited catch-up, which applies (and so forgets) a
    /// registration made through another replica a moment ago, shared by every miss.
    /// </summary>
    public async Task<PuppetRegistration?> ConfirmAsync(string corpId, string kfId, CancellationToken cancellationToken)
    {
        if (_unknownKfIds.Contains(kfId))
        {
            await TryRefreshOnMissAsync(corpId, cancellationToken);
        }
        else
        {
            await ReadOneAsync(corpId, kfId, cancellationToken);
        }
        var entry = Find(kfId);
        return entry?.Registration.CorpId == corpId ? entry.Registration : null;
    }

    private async Task ReadOneAsync(string corpId, string kfId, CancellationToken cancellationToken)
    {
        var before = Find(kfId);
        PuppetRegistration? stored;
        try
        {
            stored = await registry.FindAsync(kfId, cancellationToken);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            logger.LogWarning(exception, "Could not read {OpenKfId} from the store; going by this replica's view", kfId);
            return;
        }
        if (stored is null)
        {
            // Nothing to apply, so no waiting for the lock (a full reload may hold it) on the callback path.
            if (!IsOnlineIn(before, corpId))
            {
                _unknownKfIds.Remember(kfId);
                // Apply changes the entry, then forgets the miss: had it done both before the line above, undo it.
                if (!ReferenceEquals(Find(kfId), before))
                {
                    _unknownKfIds.Forget(kfId);
                }
            }
            return;
        }
        await _writeLock.WaitAsync(cancellationToken);
        try
        {
            // A write for this puppet applied during the read is at least as new as what was read: it stands.
            if (!ReferenceEquals(Find(kfId), before))
            {
                return;
            }
            Apply(new RegistryChanges([stored], [], Marker: null, Complete: false));
            // Under the lock, so a registration applied from now on forgets it again.
            if (!IsOnlineIn(Find(kfId), corpId))
            {
                _unknownKfIds.Remember(kfId);
            }
        }
        finally
        {
            _writeLock.Release();
        }
    }

    public async Task ApplyAsync(PuppetRegistration registration, CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken);
        try
        {
            Apply(new RegistryChanges([registration], [], Marker: null, Complete: false));
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>Reloads every registration; entries no longer in the store go.</summary>
    public Task RefreshAsync(CancellationToken cancellationToken) => ReadAndApplyAsync(full: true, missedCorp: null, cancellationToken);

    /// <summary>Applies what changed in the store since the last look: an indexed read of a few documents.</summary>
    public Task CatchUpAsync(CancellationToken cancellationToken) => ReadAndApplyAsync(full: false, missedCorp: null, cancellationToken);

    // missedCorp: a corp a callback named, remembered as unknown if it is still without puppets after the read.
    private async Task ReadAndApplyAsync(bool full, string? missedCorp, CancellationToken cancellationToken)
    {
        // The store read happens under the lock so a write applied meanwhile is never overwritten by older data.
        await _writeLock.WaitAsync(cancellationToken);
        try
        {
            // Without a marker yet (a store of legacy documents only), every marked document is new.
            var since = full ? (DateTime?)null : (_marker ?? DateTime.UnixEpoch) - ChangeOverlap;
            Apply(await registry.ReadChangesAsync(since, cancellationToken));
            if (missedCorp is not null && !_byCorp.ContainsKey(missedCorp))
            {
                _unknownCorps.Remember(missedCorp);
            }
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>
    /// Catches up when a callback names a puppet or corp this replica has not seen (it may have registered
    /// through another replica a moment ago); at most once a second, so unknown ids cannot hammer the store.
    /// </summary>
    public Task<bool> TryRefreshOnMissAsync(CancellationToken cancellationToken) => CatchUpOnMissAsync(missedCorp: null, cancellationToken);

    /// <summary>
    /// As <see cref="TryRefreshOnMissAsync(CancellationToken)"/> for a callback that names <paramref name="corpId"/>:
    /// a corp a catch-up just found without puppets is not caught up for again until
    /// <see cref="RegistrationOptions.MissCacheDuration"/> has passed or a registration in it is applied.
    /// </summary>
    public Task<bool> TryRefreshOnMissAsync(string corpId, CancellationToken cancellationToken) =>
        _byCorp.ContainsKey(corpId) ? CatchUpOnMissAsync(missedCorp: null, cancellationToken)
        : _unknownCorps.Contains(corpId) ? Task.FromResult(false)
        : CatchUpOnMissAsync(missedCorp: corpId, cancellationToken);

    private async Task<bool> CatchUpOnMissAsync(string? missedCorp, CancellationToken cancellationToken)
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
            await ReadAndApplyAsync(full: false, missedCorp, cancellationToken);
            return true;
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            logger.LogWarning(exception, "Catching up with the registry after a miss failed");
            return false;
        }
    }

    // Under the lock.
    private void Apply(RegistryChanges changes)
    {
        var touchedCorps = new HashSet<string>(StringComparer.Ordinal);
        var seen = changes.Complete ? new HashSet<string>(StringComparer.Ordinal) : null;
        var unloadable = new List<UnloadableRegistration>(changes.Unloadable);
        // The apps keyed in this batch, before their corps' views are rebuilt: a fleet loaded at once shares them too.
        var keyed = new Dictionary<(string CorpId, AppKey App), WeComCrypto>();
        foreach (var registration in changes.Loaded)
        {
            seen?.Add(registration.KfId);
            var previous = _byKfId.GetValueOrDefault(registration.KfId);
            if (previous is not null && Unchanged(previous.Registration, registration))
            {
                continue;
            }
            if (ToEntry(registration, previous, keyed) is not { } entry)
            {
                unloadable.Add(RegistrationCheck.UnusableKey(registration)
                    ?? new UnloadableRegistration(registration.KfId, "encodingAESKey", "cannot key WeCom's crypto"));
                continue;
            }
            _unloadable.TryRemove(registration.KfId, out _);
            Put(entry, previous, touchedCorps);
            // Known from now on: a callback for it must not be refused on an earlier miss.
            _unknownKfIds.Forget(registration.KfId);
            _unknownCorps.Forget(registration.CorpId);
        }
        foreach (var fault in unloadable)
        {
            seen?.Add(fault.KfId);
            if (_byKfId.TryRemove(fault.KfId, out var removed))
            {
                Unlink(removed, touchedCorps);
            }
            if (_unloadable.TryGetValue(fault.KfId, out var known) && known == fault)
            {
                continue;
            }
            _unloadable[fault.KfId] = fault;
            logger.LogWarning("Registration {OpenKfId} skipped: its {Field} {Reason}; the rest of the fleet serves. Register it again to fix it",
                fault.KfId, fault.Field, fault.Reason);
        }
        if (seen is not null)
        {
            foreach (var gone in _byKfId.Keys.Where(k => !seen.Contains(k)).ToList())
            {
                if (_byKfId.TryRemove(gone, out var removed))
                {
                    Unlink(removed, touchedCorps);
                }
            }
            foreach (var gone in _unloadable.Keys.Where(k => !seen.Contains(k)).ToList())
            {
                _unloadable.TryRemove(gone, out _);
            }
        }
        foreach (var corpId in touchedCorps)
        {
            RebuildCorp(corpId);
        }
        _marker = RegistryChanges.Newest(_marker, changes.Marker);
    }

    /// <summary>
    /// The same registration read again. A record compares its instance list by reference, and every read of the
    /// store makes a new one: without this, each catch-up re-applied the last seconds' registrations and rebuilt their
    /// corps, once a second, under load (docs/benchmarks.md, issue 16).
    /// </summary>
    private static bool Unchanged(PuppetRegistration known, PuppetRegistration read) =>
        known == read || (known.Instances.SequenceEqual(read.Instances) && known with { Instances = read.Instances } == read);

    private void Put(PuppetEntry entry, PuppetEntry? previous, HashSet<string> touchedCorps)
    {
        if (previous is not null && previous.Registration.CorpId != entry.Registration.CorpId)
        {
            Unlink(previous, touchedCorps);
        }
        _byKfId[entry.Registration.KfId] = entry;
        var corpId = entry.Registration.CorpId;
        if (!_kfIdsByCorp.TryGetValue(corpId, out var kfIds))
        {
            _kfIdsByCorp[corpId] = kfIds = new HashSet<string>(StringComparer.Ordinal);
        }
        kfIds.Add(entry.Registration.KfId);
        touchedCorps.Add(corpId);
    }

    private void Unlink(PuppetEntry entry, HashSet<string> touchedCorps)
    {
        var corpId = entry.Registration.CorpId;
        if (_kfIdsByCorp.TryGetValue(corpId, out var kfIds) && kfIds.Remove(entry.Registration.KfId) && kfIds.Count == 0)
        {
            _kfIdsByCorp.Remove(corpId);
        }
        touchedCorps.Add(corpId);
    }

    private void RebuildCorp(string corpId)
    {
        if (!_kfIdsByCorp.TryGetValue(corpId, out var kfIds))
        {
            _byCorp.TryRemove(corpId, out _);
            return;
        }
        var entries = kfIds.Select(k => _byKfId[k]).ToList();
        var apps = entries
            .OrderByDescending(e => e.Registration.Online)
            .ThenByDescending(e => e.Registration.RegisteredAt ?? DateTime.MinValue)
            .DistinctBy(AppOf)
            .ToArray();
        var secrets = entries.Select(e => e.Registration.CorpSecret).Distinct().ToArray();
        _byCorp[corpId] = new CorpView(corpId, [.. apps.Select(e => e.Crypto)], [.. apps.Select(AppOf)], secrets, entries.Count);
    }

    private static RecentMisses MissesOf(IOptions<RegistrationOptions>? options, TimeProvider time)
    {
        var settings = options?.Value ?? new RegistrationOptions();
        return new RecentMisses(settings.MissCacheSize, settings.MissCacheDuration, time);
    }

    private static bool IsOnlineIn(PuppetEntry? entry, string corpId) => entry is { Registration.Online: true } && entry.Registration.CorpId == corpId;

    /// <summary>
    /// Puppets of one corp repeat its id, its secret and their app's token and key: the directory holds one copy of
    /// each (the corp's view already has them), not one per puppet; a fleet of 100,000 over 1,000 corps saves ~20 MB.
    /// </summary>
    private PuppetRegistration SharingCorpStrings(PuppetRegistration registration)
    {
        if (!_byCorp.TryGetValue(registration.CorpId, out var corp))
        {
            return registration;
        }
        var appIndex = Array.IndexOf(corp.Apps, new AppKey(registration.Token, registration.EncodingAesKey));
        var secretIndex = Array.IndexOf(corp.Secrets, registration.CorpSecret);
        var (token, key) = appIndex >= 0 ? (corp.Apps[appIndex].Token, corp.Apps[appIndex].EncodingAesKey) : (registration.Token, registration.EncodingAesKey);
        var secret = secretIndex >= 0 ? corp.Secrets[secretIndex] : registration.CorpSecret;
        if (ReferenceEquals(corp.CorpId, registration.CorpId) && ReferenceEquals(token, registration.Token)
            && ReferenceEquals(key, registration.EncodingAesKey) && ReferenceEquals(secret, registration.CorpSecret))
        {
            return registration;
        }
        return registration with { CorpId = corp.CorpId, CorpSecret = secret, Token = token, EncodingAesKey = key };
    }

    private static AppKey AppOf(PuppetEntry entry) => new(entry.Registration.Token, entry.Registration.EncodingAesKey);

    /// <summary>
    /// The entry, or null when the registration's app key cannot key WeCom's crypto. Puppets of one app (a corp's
    /// kf accounts usually are) share its crypto: keyed once, held once, its AES objects pooled once.
    /// </summary>
    private PuppetEntry? ToEntry(PuppetRegistration registration, PuppetEntry? previous, Dictionary<(string, AppKey), WeComCrypto> keyed)
    {
        registration = SharingCorpStrings(registration);
        var app = new AppKey(registration.Token, registration.EncodingAesKey);
        if (previous is not null && AppOf(previous) == app)
        {
            return new PuppetEntry(registration, previous.Crypto);
        }
        if (keyed.TryGetValue((registration.CorpId, app), out var shared))
        {
            return new PuppetEntry(registration, shared);
        }
        if (_byCorp.TryGetValue(registration.CorpId, out var corp) && Array.IndexOf(corp.Apps, app) is >= 0 and var index)
        {
            return new PuppetEntry(registration, corp.Credentials[index]);
        }
        if (RegistrationCheck.UnusableKey(registration) is not null)
        {
            return null;
        }
        var crypto = WeComCrypto.Create(registration.Token, registration.EncodingAesKey);
        keyed[(registration.CorpId, app)] = crypto;
        return new PuppetEntry(registration, crypto);
    }
}
