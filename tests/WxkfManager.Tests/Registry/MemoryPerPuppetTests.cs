using Microsoft.Extensions.Logging.Abstractions;
using WxkfManager.Registry;

namespace WxkfManager.Tests.Registry;

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MemoryMeasurements
{
    /// <summary>Alone, so no other test's allocations land between the two heap readings.</summary>
    public const string Name = "Memory measurements";
}

/// <summary>
/// What one registered puppet costs the directory beyond its strings: the registration record, its instance,
/// the entry, the maps' slots and its share of the app crypto. docs/benchmarks.md ("Issue 16 — memory per
/// puppet") records the figures; run with <c>--logger "console;verbosity=detailed"</c> to see them.
/// </summary>
[Collection(MemoryMeasurements.Name)]
public sealed class MemoryPerPuppetTests
{
    private const int Puppets = 100_000;
    private const int Corps = 1_000;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task APuppetOfACorpsSharedApp_CostsAFewHundredBytesBeyondItsStrings()
    {
        var (bytes, strings) = await MeasureAsync(keyPerPuppet: false);

        Report("one app (token, EncodingAESKey) per corp", bytes, strings);
        Assert.InRange(bytes, 1, 400);
    }

    [Fact]
    public async Task APuppetWithItsOwnApp_CostsItsAppCryptoOnTop_StillUnder600Bytes()
    {
        var (bytes, strings) = await MeasureAsync(keyPerPuppet: true);

        Report("its own app per puppet", bytes, strings);
        Assert.InRange(bytes, 1, 600);
    }

    private static void Report(string scenario, double bytes, double strings) =>
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"{Puppets:N0} puppets over {Corps:N0} corps, {scenario}: {bytes:F0} bytes per puppet beyond its strings (which took {strings:F0})");

    /// <summary>
    /// Retained heap bytes per puppet of the loaded directory, less the strings made before the reading they are
    /// measured from; and what those strings took.
    /// </summary>
    private static async Task<(double Bytes, double Strings)> MeasureAsync(bool keyPerPuppet)
    {
        var start = GC.GetTotalMemory(forceFullCollection: true);
        // Every string a puppet brings, made first: as the store's driver makes them, one instance per puppet.
        var corpKeys = Enumerable.Range(0, Corps).Select(_ => (Token: "token" + Random.Shared.Next(), Key: Crypto.EncodingAesKey.Generate())).ToArray();
        var strings = new string[Puppets][];
        for (var i = 0; i < Puppets; i++)
        {
            var corp = i % Corps;
            var (token, key) = keyPerPuppet ? ("token" + Random.Shared.Next(), Crypto.EncodingAesKey.Generate()) : corpKeys[corp];
            strings[i] =
            [
                $"wk{i:D30}", $"客服 {i}", $"http://10.{i / 65536}.{i / 256 % 256}.{i % 256}:8080", $"ww{corp:D16}",
                "secret-" + Guid.NewGuid().ToString("N"), new string(token), new string(key), $"10.{i / 65536}.{i / 256 % 256}.{i % 256}",
            ];
        }
        var registeredAt = new DateTime(2026, 12, 1, 0, 0, 0, DateTimeKind.Utc);
        var before = GC.GetTotalMemory(forceFullCollection: true);

        var store = new ListRegistry();
        for (var i = 0; i < Puppets; i++)
        {
            var s = strings[i];
            store.Registrations.Add(new PuppetRegistration(s[0], s[1], s[2], s[3], s[4], s[5], s[6], Online: true, LastOnlineDate: null, registeredAt)
            {
                Instances = [new PuppetInstance(s[7], s[2], registeredAt)],
            });
        }
        var directory = new PuppetDirectory(store, TimeProvider.System, NullLogger<PuppetDirectory>.Instance);
        await directory.RefreshAsync(Ct);
        store.Registrations = [];

        var after = GC.GetTotalMemory(forceFullCollection: true);
        Assert.Equal(Puppets, directory.Count);
        GC.KeepAlive(strings);
        GC.KeepAlive(directory);
        return ((after - before) / (double)Puppets, (before - start) / (double)Puppets);
    }

    /// <summary>A store that hands the directory a prepared list and keeps nothing once it is dropped.</summary>
    private sealed class ListRegistry : IPuppetRegistry
    {
        public List<PuppetRegistration> Registrations { get; set; } = [];

        public Task InitializeAsync(CancellationToken cancellationToken) => Task.CompletedTask;
        public Task<PuppetRegistration> UpsertAsync(PuppetRegistration registration, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task<PuppetRegistration?> MarkOfflineAsync(string kfId, string corpId, DateTime at, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task<PuppetRegistration?> MarkOfflineIfLatestAsync(PuppetRegistration seen, DateTime at, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task<PuppetRegistration?> FindAsync(string kfId, CancellationToken cancellationToken) => Task.FromResult<PuppetRegistration?>(null);
        public Task<IReadOnlyList<PuppetRegistration>> ListAsync(CancellationToken cancellationToken) => Task.FromResult<IReadOnlyList<PuppetRegistration>>(Registrations);
        public Task<RegistryChanges> ReadChangesAsync(DateTime? since, CancellationToken cancellationToken) =>
            Task.FromResult(new RegistryChanges(Registrations, [], DateTime.UtcNow, Complete: since is null));
        public Task PingAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
