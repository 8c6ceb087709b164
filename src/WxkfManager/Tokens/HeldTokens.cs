using System.Collections.Concurrent;

namespace WxkfManager.Tokens;

/// <summary>
/// The tokens this replica holds: per cache key, the current token, the secret it was fetched with, and the last
/// few tokens served for the key. The proxy needs the last ones: when WeCom calls a token a puppet sends invalid or
/// expired, the token must lead back to its corp and secret to be refreshed, and the store cannot answer that (it is
/// keyed by corp and secret hash, the token encrypted). Bounded: <see cref="ServedKeptPerKey"/> tokens per key, and
/// keys exist only for corp secrets WeCom gave a token for.
/// </summary>
public sealed class HeldTokens
{
    /// <summary>
    /// Tokens remembered per key. A token lives 2 hours and a key gets a new one about every 2 hours, or at most one
    /// per ForcedRefreshMinInterval when callers force refreshes; a puppet holding a token older than the last 8 gets
    /// WeCom's error, as a puppet that never came through this replica does.
    /// </summary>
    public const int ServedKeptPerKey = 8;

    private readonly ConcurrentDictionary<string, Held> _byKey = new(StringComparer.Ordinal);

    public CachedToken? Current(string cacheKey) => _byKey.TryGetValue(cacheKey, out var held) ? held.Token : null;

    public IReadOnlyList<CachedToken> All() => [.. _byKey.Values.Select(held => held.Token)];

    public void Remember(CachedToken token, string corpSecret) =>
        _byKey.AddOrUpdate(token.CacheKey,
            static (_, arg) => new Held(arg.token, arg.corpSecret, [arg.token.AccessToken]),
            static (_, held, arg) => held.With(arg.token, arg.corpSecret),
            (token, corpSecret));

    /// <summary>The corp and secret a token served by this replica was fetched with; null for a token it did not serve, or served too long ago.</summary>
    public (string CorpId, string CorpSecret)? OwnerOf(string accessToken)
    {
        foreach (var held in _byKey.Values)
        {
            if (held.Served.Contains(accessToken, StringComparer.Ordinal))
            {
                return (held.Token.CorpId, held.CorpSecret);
            }
        }
        return null;
    }

    /// <summary>Tokens remembered for the proxy, over every key.</summary>
    public int ServedCount => _byKey.Values.Sum(held => held.Served.Length);

    private sealed record Held(CachedToken Token, string CorpSecret, string[] Served)
    {
        public Held With(CachedToken token, string corpSecret) => new(token, corpSecret,
            Served[^1] == token.AccessToken ? Served : [.. Served.TakeLast(ServedKeptPerKey - 1), token.AccessToken]);
    }
}
