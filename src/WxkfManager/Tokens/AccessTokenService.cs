using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;
using WxkfManager.Metrics;
using WxkfManager.Settings;
using WxkfManager.WeCom;

namespace WxkfManager.Tokens;

/// <summary>What getToken answers: WeCom's JSON (passed through as it came, or built from the cache) and whether it was cached.</summary>
public sealed record TokenAnswer(int StatusCode, string Json, bool FromCache);

/// <summary>
/// One access token per (corp id, corp secret), cached until shortly before it expires. Callers for the
/// same corp share one upstream call (in this process, and across replicas through the store's refresh
/// lease); WeCom's errors are passed through and never cached. The cache is keyed by a hash of the secret.
/// </summary>
public sealed class AccessTokenService(
    ITokenStore store,
    WeComClient weCom,
    TimeProvider time,
    ManagerMetrics metrics,
    IOptions<WeComOptions> options,
    ILogger<AccessTokenService> logger)
{
    private static readonly TimeSpan LeaseDuration = TimeSpan.FromSeconds(30);

    private readonly HeldTokens _held = new();
    private readonly ConcurrentDictionary<string, Lazy<Task<TokenAnswer>>> _inFlight = new(StringComparer.Ordinal);
    private readonly string _owner = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid().ToString("N")[..8]}";

    /// <summary>The tokens this replica holds in memory, for the operator console (which shows corps and times only).</summary>
    public IReadOnlyList<CachedToken> CachedTokens() => _held.All();

    public static string CacheKey(string corpId, string corpSecret) =>
        corpId + ":" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(corpId + "\n" + corpSecret)));

    public Task<TokenAnswer> GetAsync(string corpId, string corpSecret, bool forceRefresh, CancellationToken cancellationToken) =>
        GetAsync(corpId, corpSecret, forceRefresh, rejected: null, cancellationToken);

    private Task<TokenAnswer> GetAsync(string corpId, string corpSecret, bool forceRefresh, string? rejected, CancellationToken cancellationToken)
    {
        var key = CacheKey(corpId, corpSecret);
        var now = time.GetUtcNow().UtcDateTime;
        if (_held.Current(key) is { } cached && Usable(cached, now, forceRefresh, now, rejected))
        {
            metrics.TokenAnswered(fromCache: true);
            return Task.FromResult(FromCache(cached, now));
        }
        var load = _inFlight.GetOrAdd(key, _ => new Lazy<Task<TokenAnswer>>(() => LoadAsync(key, corpId, corpSecret, forceRefresh, rejected)));
        return load.Value.WaitAsync(cancellationToken);
    }

    /// <summary>
    /// For a token this service issued that WeCom now calls invalid or expired (40014, 42001): a fresh token,
    /// or null when the token is not ours or no fresh one could be had.
    /// </summary>
    public async Task<string?> RefreshIssuedAsync(string accessToken, CancellationToken cancellationToken)
    {
        if (_held.OwnerOf(accessToken) is not { } owner)
        {
            return null;
        }
        var key = CacheKey(owner.CorpId, owner.CorpSecret);
        if (_held.Current(key) is { } current && current.AccessToken != accessToken)
        {
            return current.AccessToken;
        }
        _ = await GetAsync(owner.CorpId, owner.CorpSecret, forceRefresh: true, rejected: accessToken, cancellationToken);
        return _held.Current(key) is { } fresh && fresh.AccessToken != accessToken ? fresh.AccessToken : null;
    }

    private async Task<TokenAnswer> LoadAsync(string key, string corpId, string corpSecret, bool forceRefresh, string? rejected)
    {
        try
        {
            var requested = time.GetUtcNow().UtcDateTime;
            var deadline = requested + options.Value.TokenLeaseWait;
            while (true)
            {
                var now = time.GetUtcNow().UtcDateTime;
                if (await store.GetAsync(key, CancellationToken.None) is { } stored && Usable(stored, now, forceRefresh, requested, rejected))
                {
                    metrics.TokenAnswered(fromCache: true);
                    _held.Remember(stored, corpSecret);
                    return FromCache(stored, now);
                }
                if (await store.TryLeaseRefreshAsync(key, _owner, now, now + LeaseDuration, CancellationToken.None))
                {
                    return await FetchAsync(key, corpId, corpSecret);
                }
                if (now >= deadline)
                {
                    logger.LogWarning("Another replica has been fetching the token of {CorpId} for too long; fetching it here", corpId);
                    return await FetchAsync(key, corpId, corpSecret);
                }
                await Task.Delay(TimeSpan.FromMilliseconds(200), time);
            }
        }
        finally
        {
            _inFlight.TryRemove(key, out _);
        }
    }

    private async Task<TokenAnswer> FetchAsync(string key, string corpId, string corpSecret)
    {
        metrics.TokenAnswered(fromCache: false);
        var saved = false;
        try
        {
            using var response = await weCom.GetTokenAsync(corpId, corpSecret, CancellationToken.None);
            var json = await response.Content.ReadAsStringAsync();
            if (!response.IsSuccessStatusCode)
            {
                logger.LogWarning("Token service answered HTTP {StatusCode} for {CorpId}", (int)response.StatusCode, corpId);
                return new TokenAnswer(StatusCodes.Status502BadGateway,
                    JsonSerializer.Serialize(new { errcode = 504, errmsg = $"token service answered HTTP {(int)response.StatusCode}" }), false);
            }
            if (ParseToken(json) is not { } parsed)
            {
                logger.LogWarning("Token service refused a token for {CorpId}: {ErrorSummary}", corpId, ErrorSummary(json));
                return new TokenAnswer(StatusCodes.Status200OK, json, false);
            }
            var now = time.GetUtcNow().UtcDateTime;
            var token = new CachedToken(key, corpId, parsed.AccessToken, now.AddSeconds(parsed.ExpiresIn), now);
            await store.SaveAsync(token, CancellationToken.None);
            saved = true;
            _held.Remember(token, corpSecret);
            logger.LogInformation("Fetched a new access token for {CorpId}, valid {ExpiresIn} s", corpId, parsed.ExpiresIn);
            return new TokenAnswer(StatusCodes.Status200OK, json, false);
        }
        finally
        {
            if (!saved)
            {
                await store.ReleaseRefreshAsync(key, _owner, CancellationToken.None);
            }
        }
    }

    /// <summary>
    /// Whether a cached token answers the call: fresh for a plain call; for a forced refresh, fetched since the
    /// call began or only just before it; and never the token WeCom has just rejected.
    /// </summary>
    private bool Usable(CachedToken token, DateTime now, bool forceRefresh, DateTime requested, string? rejected) =>
        token.AccessToken != rejected
        && (forceRefresh ? token.FetchedAt >= requested || JustFetched(token, now) : IsFresh(token, now));

    private bool IsFresh(CachedToken token, DateTime now)
    {
        var lifetime = token.ExpiresAt - token.FetchedAt;
        var margin = TimeSpan.FromTicks(Math.Min(options.Value.TokenRefreshMargin.Ticks, lifetime.Ticks / 4));
        return token.ExpiresAt - margin > now;
    }

    private bool JustFetched(CachedToken token, DateTime now) =>
        now - token.FetchedAt < options.Value.ForcedRefreshMinInterval && token.ExpiresAt > now;

    private static TokenAnswer FromCache(CachedToken token, DateTime now) => new(StatusCodes.Status200OK, JsonSerializer.Serialize(new
    {
        errcode = 0,
        errmsg = "ok",
        access_token = token.AccessToken,
        expires_in = Math.Max(0, (int)(token.ExpiresAt - now).TotalSeconds),
    }), true);

    private static (string AccessToken, int ExpiresIn)? ParseToken(string json)
    {
        try
        {
            var root = JsonDocument.Parse(json).RootElement;
            var errcode = root.TryGetProperty("errcode", out var code) && code.ValueKind == JsonValueKind.Number ? code.GetInt32() : 0;
            if (errcode == 0
                && root.TryGetProperty("access_token", out var accessToken) && accessToken.ValueKind == JsonValueKind.String
                && root.TryGetProperty("expires_in", out var expiresIn) && expiresIn.TryGetInt32(out var seconds) && seconds > 0)
            {
                return (accessToken.GetString()!, seconds);
            }
        }
        catch (JsonException)
        {
        }
        return null;
    }

    private static string ErrorSummary(string json)
    {
        try
        {
            var root = JsonDocument.Parse(json).RootElement;
            return $"errcode {(root.TryGetProperty("errcode", out var code) ? code.ToString() : "?")}";
        }
        catch (JsonException)
        {
            return "not JSON";
        }
    }
}
