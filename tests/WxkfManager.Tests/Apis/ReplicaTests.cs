namespace WxkfManager.Tests.Apis;

/// <summary>
/// Two managers over one store converge: the SQLite version of what replicas do on one MongoDB
/// (the same test runs on MongoDB in the integration tests).
/// </summary>
public sealed class ReplicaTests
{
    [Fact]
    public async Task APuppetRegisteredThroughOneReplica_GetsCallbacksThroughTheOther()
    {
        await using var first = new ManagerApp().With("Storage:RegistryRefreshInterval", "00:00:01");
        await first.InitializeAsync();
        await using var second = new ManagerApp { DataDirectory = first.DataDirectory }.With("Storage:RegistryRefreshInterval", "00:00:01");
        await second.InitializeAsync();

        await ReplicaScenario.RunAsync(first, second, Ct);
    }
}
