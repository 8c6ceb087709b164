using Microsoft.Data.Sqlite;
using WxkfManager.Registry;
using WxkfManager.Tokens;

namespace WxkfManager.Storage.Sqlite;

/// <summary>The token cache in the embedded SQLite file, so a restart does not cost a gettoken call per corp.</summary>
public sealed class SqliteTokenStore(SqliteDatabase database) : ITokenStore
{
    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        await database.EnableWalAsync(cancellationToken);
        await using var connection = await database.OpenAsync(cancellationToken);
        await SqliteDatabase.ExecuteAsync(connection, """
            CREATE TABLE IF NOT EXISTS access_tokens (
                cache_key    TEXT PRIMARY KEY NOT NULL,
                corp_id      TEXT NOT NULL,
                access_token TEXT NULL,
                expires_at   INTEGER NULL,
                fetched_at   INTEGER NULL,
                lease_owner  TEXT NULL,
                lease_until  INTEGER NULL
            );
            """, cancellationToken);
    }

    public async Task<CachedToken?> GetAsync(string cacheKey, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT cache_key, corp_id, access_token, expires_at, fetched_at FROM access_tokens
            WHERE cache_key = $key AND access_token IS NOT NULL;
            """;
        command.Parameters.AddWithValue("$key", cacheKey);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }
        return new CachedToken(reader.GetString(0), reader.GetString(1), reader.GetString(2),
            new DateTime(reader.GetInt64(3), DateTimeKind.Utc), new DateTime(reader.GetInt64(4), DateTimeKind.Utc));
    }

    public async Task SaveAsync(CachedToken token, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO access_tokens (cache_key, corp_id, access_token, expires_at, fetched_at, lease_owner, lease_until)
            VALUES ($key, $corpId, $token, $expiresAt, $fetchedAt, NULL, NULL)
            ON CONFLICT (cache_key) DO UPDATE SET
                corp_id = excluded.corp_id, access_token = excluded.access_token, expires_at = excluded.expires_at,
                fetched_at = excluded.fetched_at, lease_owner = NULL, lease_until = NULL
            WHERE access_tokens.fetched_at IS NULL OR access_tokens.fetched_at <= excluded.fetched_at;
            """;
        command.Parameters.AddWithValue("$key", token.CacheKey);
        command.Parameters.AddWithValue("$corpId", token.CorpId);
        command.Parameters.AddWithValue("$token", token.AccessToken);
        command.Parameters.AddWithValue("$expiresAt", token.ExpiresAt.ToUniversalTime().Ticks);
        command.Parameters.AddWithValue("$fetchedAt", token.FetchedAt.ToUniversalTime().Ticks);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<bool> TryLeaseRefreshAsync(string cacheKey, string owner, DateTime now, DateTime until, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO access_tokens (cache_key, corp_id, lease_owner, lease_until) VALUES ($key, '', $owner, $until)
            ON CONFLICT (cache_key) DO UPDATE SET lease_owner = excluded.lease_owner, lease_until = excluded.lease_until
            WHERE access_tokens.lease_until IS NULL OR access_tokens.lease_until <= $now OR access_tokens.lease_owner = $owner;
            """;
        command.Parameters.AddWithValue("$key", cacheKey);
        command.Parameters.AddWithValue("$owner", owner);
        command.Parameters.AddWithValue("$until", until.ToUniversalTime().Ticks);
        command.Parameters.AddWithValue("$now", now.ToUniversalTime().Ticks);
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    public async Task ReleaseRefreshAsync(string cacheKey, string owner, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "UPDATE access_tokens SET lease_owner = NULL, lease_until = NULL WHERE cache_key = $key AND lease_owner = $owner;";
        command.Parameters.AddWithValue("$key", cacheKey);
        command.Parameters.AddWithValue("$owner", owner);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
