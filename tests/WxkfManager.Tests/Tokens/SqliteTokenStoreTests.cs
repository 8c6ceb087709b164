using Microsoft.Extensions.Options;
using WxkfManager.Settings;
using WxkfManager.Registry;
using WxkfManager.Tokens;
using WxkfManager.Storage.Sqlite;

namespace WxkfManager.Tests.Tokens;

public sealed class SqliteTokenStoreTests : TokenStoreContract
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "wxkf-tokens-" + Guid.NewGuid().ToString("N"));

    protected override async Task<ITokenStore> CreateStoreAsync()
    {
        var store = new SqliteTokenStore(new SqliteDatabase(Options.Create(new StorageOptions { DataDirectory = _directory })));
        await store.InitializeAsync(Ct);
        return store;
    }
}
