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
