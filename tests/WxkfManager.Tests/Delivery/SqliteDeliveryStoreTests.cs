using WxkfManager.Delivery;
using WxkfManager.Options;
using WxkfManager.Registry;

namespace WxkfManager.Tests.Delivery;

public sealed class SqliteDeliveryStoreTests : DeliveryStoreContract, IDisposable
{
    private readonly List<string> _directories = [];

    protected override async Task<IDeliveryStore> CreateStoreAsync()
    {
        var directory = Path.Combine(Path.GetTempPath(), "wxkf-queue-" + Guid.NewGuid().ToString("N"));
        _directories.Add(directory);
        var store = new SqliteDeliveryStore(new SqliteDatabase(Microsoft.Extensions.Options.Options.Create(new StorageOptions { DataDirectory = directory })));
        await store.InitializeAsync(Ct);
        return store;
    }

    [Fact]
    public async Task QueuedRecords_SurviveANewInstanceOnTheSameFile()
    {
        var directory = Path.Combine(Path.GetTempPath(), "wxkf-queue-" + Guid.NewGuid().ToString("N"));
        _directories.Add(directory);
        var options = Microsoft.Extensions.Options.Options.Create(new StorageOptions { DataDirectory = directory });
        var first = new SqliteDeliveryStore(new SqliteDatabase(options));
        await first.InitializeAsync(Ct);
        var record = NewRecord();
        await first.TryEnqueueAsync(record, Ct);

        var second = new SqliteDeliveryStore(new SqliteDatabase(options));
        await second.InitializeAsync(Ct);

        Assert.Equal(record, await second.FindAsync(record.Id, Ct));
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
