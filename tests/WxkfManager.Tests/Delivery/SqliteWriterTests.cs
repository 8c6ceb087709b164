using Microsoft.Extensions.Options;
using WxkfManager.Settings;
using WxkfManager.Storage.Sqlite;

namespace WxkfManager.Tests.Delivery;

public sealed class SqliteWriterTests : IDisposable
{
    private const int WalLimitFrames = 256; // About 1 MB of 4 KB pages.
    private const int Rows = 16_000;

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "wxkf-writer-" + Guid.NewGuid().ToString("N"));

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task UnderAStreamOfCommitsThatNeverPauses_TheWalStaysBounded()
    {
        var database = new SqliteDatabase(Options.Create(new StorageOptions { DataDirectory = _directory }));
        await database.EnableWalAsync(Ct);
        await using (var connection = await database.OpenAsync(Ct))
        {
            await SqliteDatabase.ExecuteAsync(connection,
                "CREATE TABLE rows (id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, body BLOB NOT NULL);", Ct);
        }
        await using var writer = new SqliteWriter(database, TimeSpan.FromMilliseconds(10), WalLimitFrames);
        var wal = database.Path + "-wal";
        long peak = 0;
        using var stop = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                peak = Math.Max(peak, File.Exists(wal) ? new FileInfo(wal).Length : 0);
                await Task.Delay(2, CancellationToken.None);
            }
        }, Ct);

        // 16,000 rows of 4 KB: over 64 MB through the WAL, from four writers that always have the next write queued.
        var body = new byte[4000];
        var next = 0;
        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            while (Interlocked.Increment(ref next) <= Rows)
            {
                await writer.WriteAsync(w =>
                {
                    var insert = w.Command("INSERT INTO rows (key, body) VALUES ($key, $body);");
                    SqliteWriter.Bind(insert, "$key", Guid.NewGuid().ToString("N"));
                    SqliteWriter.Bind(insert, "$body", body);
                    return insert.ExecuteNonQuery();
                }, Ct);
            }
        }, Ct)));
        await stop.CancelAsync();
        await sampler;

        // Without the writer restarting it the WAL held more than all of it (178 MB here); with it, the limit plus
        // what arrives until a restart gets through (up to 16 MB here, where the disk syncs in milliseconds and a
        // restart that meets a checkpoint round waits for the next).
        Assert.True(peak < 32 * 1024 * 1024, $"the WAL reached {peak / (1024 * 1024)} MB against a limit of about 1 MB");
        await using var check = await database.OpenAsync(Ct);
        await using var count = check.CreateCommand();
        count.CommandText = "SELECT COUNT(*) FROM rows;";
        Assert.Equal((long)Rows, (long)(await count.ExecuteScalarAsync(Ct))!);
    }

    private static readonly AsyncLocal<string?> StartedBy = new();

    [Fact]
    public async Task TheWriterThread_TakesNoContextFromTheWriteThatStartedIt()
    {
        var database = new SqliteDatabase(Options.Create(new StorageOptions { DataDirectory = _directory }));
        await using var writer = new SqliteWriter(database);
        StartedBy.Value = "the first request";
        using var request = new System.Diagnostics.Activity("first request").Start();

        var seen = await writer.WriteAsync(_ => (StartedBy.Value, System.Diagnostics.Activity.Current), Ct);

        Assert.Null(seen.Item1);
        Assert.Null(seen.Item2);
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
