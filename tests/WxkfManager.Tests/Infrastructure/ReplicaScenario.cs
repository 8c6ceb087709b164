using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using WxkfManager.Registry;

namespace WxkfManager.Tests.Infrastructure;

/// <summary>Two managers over one store converge (run on SQLite in ReplicaTests, on MongoDB in the integration tests).</summary>
public static class ReplicaScenario
{
    public static async Task RunAsync(ManagerApp first, ManagerApp second, CancellationToken ct)
    {
        var corp = new TestCorp();
        var puppet = await corp.RegisterPuppetAsync(first.Client, first.Puppets);

        // The second replica has never seen this corp: the miss makes it reload at once.
        var callback = corp.Callback(puppet.KfId, syncToken: "via-the-other-replica");
        using var response = await second.Client.PostAsync(callback.Path, callback.Content(), ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("via-the-other-replica", (await puppet.NextAsync()).Token);

        // A deregistration through the first replica reaches the second within its refresh interval.
        (await first.Client.PostAsJsonAsync("/puppetWxkfManager/deregister", new { kfId = puppet.KfId, corpId = corp.CorpId }, ct)).EnsureSuccessStatusCode();
        var info = await second.Client.GetFromJsonAsync<JsonElement>($"/puppetWxkfManager/puppetWxkfInfo/{puppet.KfId}", ct);
        Assert.False(info.GetProperty("online").GetBoolean());
        var directory = second.Services.GetRequiredService<PuppetDirectory>();
        await Eventually.WaitForAsync<bool>(
            () => Task.FromResult(directory.Find(puppet.KfId) is null or { Registration.Online: false } ? true : (bool?)null),
            TimeSpan.FromSeconds(2.5));
        var late = corp.Callback(puppet.KfId);
        using var lateResponse = await second.Client.PostAsync(late.Path, late.Content(), ct);
        Assert.Equal(HttpStatusCode.OK, lateResponse.StatusCode);
        Assert.True(await puppet.NothingArrivesAsync(TimeSpan.FromMilliseconds(500)));
    }
}
