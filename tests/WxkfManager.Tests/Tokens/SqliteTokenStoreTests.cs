using WxkfManager.Options;
using WxkfManager.Registry;
using WxkfManager.Tokens;

namespace WxkfManager.Tests.Tokens;

public sealed class SqliteTokenStoreTests : TokenStoreContract
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "wxkf-tokens-" + Guid.NewGuid().ToString("N"));

    protected override async Task<ITokenStore> CreateStoreAsync()
    {
        var store = new SqliteTokenStore(new SqliteDatabase(Microsoft.Extensions.Options.Options.Create(new StorageOptions { DataDirectory = _directory })));
        await store.InitializeAsync(Ct);
        return store;
    }
}
