using Microsoft.Extensions.Options;
using WxkfManager.Delivery;
using WxkfManager.Settings;
using WxkfManager.Storage.Sqlite;

namespace WxkfManager.Tests.Delivery;

public sealed class SqliteDeliveryStoreTests : DeliveryStoreContract, IDisposable
{
    private readonly List<string> _directories = [];

    protected override async Task<IDeliveryStore> CreateStoreAsync()
    {
        var directory = Path.Combine(Path.GetTempPath(), "wxkf-queue-" + Guid.NewGuid().ToString("N"));
        _directories.Add(directory);
        var store = new SqliteDeliveryStore(new SqliteDatabase(Options.Create(new StorageOptions { DataDirectory = directory })));
        await store.InitializeAsync(Ct);
        return store;
    }

    [Fact]
    public async Task QueuedRecords_SurviveANewInstanceOnTheSameFile()
    {
        var directory = Path.Combine(Path.GetTempPath(), "wxkf-queue-" + Guid.NewGuid().ToString("N"));
        _directories.Add(directory);
        var options = Options.Create(new StorageOptions { DataDirectory = directory });
        var first = new SqliteDeliveryStore(new SqliteDatabase(options));
        await first.InitializeAsync(Ct);
        var record = NewRecord();
        await first.TryEnqueueAsync(record, Ct);

        var second = new SqliteDeliveryStore(new SqliteDatabase(options));
        await second.InitializeAsync(Ct);

        Assert.Equal(record, await second.FindAsync(record.Id, Ct));
    }

    [Fact]
    public async Task Park_ReadsTheDueRangeOfThePendingIndex_NotEveryEventOfThePuppets()
    {
        var directory = Path.Combine(Path.GetTempPath(), "wxkf-queue-" + Guid.NewGuid().ToString("N"));
        _directories.Add(directory);
        var database = new SqliteDatabase(Options.Create(new StorageOptions { DataDirectory = directory }));
        await new SqliteDeliveryStore(database).InitializeAsync(Ct);
        await using var connection = await database.OpenAsync(Ct);
        await using var explain = connection.CreateCommand();
        explain.CommandText = "EXPLAIN QUERY PLAN " + SqliteDeliveryStore.ParkSql;
        foreach (var name in new[] { "$until", "$now", "$kfIds", "$rows" })
        {
            explain.Parameters.AddWithValue(name, name == "$kfIds" ? "[\"wk-broken\"]" : 0L);
        }

        var plan = new List<string>();
        await using (var reader = await explain.ExecuteReaderAsync(Ct))
        {
            while (await reader.ReadAsync(Ct))
            {
                plan.Add(reader.GetString(3));
            }
        }

        Assert.Contains(plan, step => step.StartsWith("SEARCH deliveries USING INDEX ix_deliveries_pending_due (next_attempt_at<?)", StringComparison.Ordinal));
    }

    // On MongoDB a TTL index does this (see MongoDeliveryRenderingTests).
    [Fact]
    public async Task Purge_RemovesOldFinishedRecords_Only()
    {
        var store = await CreateStoreAsync();
        var oldDelivered = NewRecord();
        var newDelivered = NewRecord();
        var oldDead = NewRecord(state: DeliveryState.Dead);
        var pending = NewRecord();
        foreach (var record in new[] { oldDelivered, newDelivered, oldDead, pending })
        {
            await store.TryEnqueueAsync(record, Ct);
        }
        var claimed = await store.ClaimDueAsync("w", 3, T0, TimeSpan.FromSeconds(30), Ct);
        await store.MarkDeliveredAsync(oldDelivered.Id, TokenOf(claimed, oldDelivered.Id), 1, T0, Ct);
        await store.MarkDeliveredAsync(newDelivered.Id, TokenOf(claimed, newDelivered.Id), 1, T0.AddHours(2), Ct);
        await store.RescheduleAsync(pending.Id, TokenOf(claimed, pending.Id), 1, T0, "x", Ct);

        var purged = await store.PurgeAsync(deliveredBefore: T0.AddHours(1), deadBefore: T0.AddHours(1), Ct);

        Assert.Equal(2, purged);
        Assert.Null(await store.FindAsync(oldDelivered.Id, Ct));
        Assert.Null(await store.FindAsync(oldDead.Id, Ct));
        Assert.NotNull(await store.FindAsync(newDelivered.Id, Ct));
        Assert.NotNull(await store.FindAsync(pending.Id, Ct));
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        foreach (var directory in _directories)
        {
            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
