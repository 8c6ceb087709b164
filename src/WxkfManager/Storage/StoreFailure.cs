using System.Data.Common;
using MongoDB.Driver;

namespace WxkfManager.Storage;

internal static class StoreFailure
{
    /// <summary>Failures of the store itself (down, locked, timed out), answered with 503 rather than a 500.</summary>
    public static bool IsStoreFailure(Exception exception) =>
        exception is DbException or MongoException or TimeoutException;
}
