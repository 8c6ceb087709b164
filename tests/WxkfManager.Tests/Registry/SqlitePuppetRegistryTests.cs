using Microsoft.Extensions.Options;
using WxkfManager.Settings;
using WxkfManager.Registry;
using WxkfManager.Storage.Sqlite;

namespace WxkfManager.Tests.Registry;

public sealed class SqlitePuppetRegistryTests : PuppetRegistryContract, IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "wxkf-sqlite-" + Guid.NewGuid().ToString("N"));

    protected override async Task<IPuppetRegistry> CreateRegistryAsync()
    {
        var registry = new SqlitePuppetRegistry(Options.Create(new StorageOptions { DataDirectory = _directory }));
        await registry.InitializeAsync(Ct);
        return registry;
    }

    [Fact]
    public async Task Registrations_SurviveANewInstanceOnTheSameFile()
    {
        var registration = Registrations.New();
        await (await CreateRegistryAsync()).UpsertAsync(registration, Ct);

        var reopened = await CreateRegistryAsync();

        Assert.Equal(registration, await reopened.FindAsync(registration.KfId, Ct));
    }

    [Fact]
    public async Task ReadingTheSameWindowAgain_ReturnsNothing_UntilARowInItChanges()
    {
        var registry = await CreateRegistryAsync();
        var first = Registrations.New();
        await registry.UpsertAsync(first, Ct);
        var since = (await registry.ReadChangesAsync(null, Ct)).Marker!.Value.AddSeconds(-5);
        Assert.Contains((await registry.ReadChangesAsync(since, Ct)).Loaded, p => p.KfId == first.KfId);

        var again = await registry.ReadChangesAsync(since, Ct);

        Assert.Empty(again.Loaded);
        Assert.False(again.Complete);
        await Task.Delay(5, Ct);
        await registry.MarkOfflineAsync(first.KfId, first.CorpId, Registrations.TruncatedNow(), Ct);
        var changed = await registry.ReadChangesAsync(since, Ct);
        Assert.Contains(changed.Loaded, p => p.KfId == first.KfId && !p.Online);
        var second = Registrations.New();
        await registry.UpsertAsync(second, Ct);
        Assert.Contains((await registry.ReadChangesAsync(since, Ct)).Loaded, p => p.KfId == second.KfId);
        // Another replica (a second instance on the same file) reads its own windows.
        Assert.Equal(2, (await (await CreateRegistryAsync()).ReadChangesAsync(since, Ct)).Loaded.Count);
    }

    [Fact]
    public async Task Store_RunsInWalMode()
    {
        await CreateRegistryAsync();
        await using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(_directory, SqlitePuppetRegistry.FileName)}");
        await connection.OpenAsync(Ct);
        await using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode;";

        Assert.Equal("wal", (string?)await command.ExecuteScalarAsync(Ct));
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
