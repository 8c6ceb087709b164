using System.Net.Http.Json;
using System.Text.Json;

namespace WxkfManager.Tests.Infrastructure;

/// <summary>Two replicas over one store fetch one token between them (run on SQLite in SharedTokenCacheTests, on MongoDB in the integration tests).</summary>
public static class SharedTokenScenario
{
    public static async Task RunAsync(ManagerApp first, ManagerApp second, CancellationToken ct)
    {
        first.WeCom.TokenDelay = TimeSpan.FromMilliseconds(500);
        var calls = Enumerable.Range(0, 60).Select(i => (i % 2 == 0 ? first : second).Client
            .GetFromJsonAsync<JsonElement>("/puppetWxkfManager/getToken?corpid=wwfleet&corpsecret=right-secret", ct));

        var answers = await Task.WhenAll(calls);

        Assert.Equal(1, first.WeCom.TokenCalls);
        Assert.Single(answers.Select(a => a.GetProperty("access_token").GetString()).Distinct());
    }
}
