namespace WxkfManager.Tests.Apis;

public sealed class OperatorApiTests(ManagerApp app) : IClassFixture<ManagerApp>
{
    private HttpClient Client => app.Client;

    [Fact]
    public async Task Replay_ForADeregisteredPuppet_IsRefusedWithTheReason_AndLeftAsADeadLetter()
    {
        var corp = new TestCorp();
        var puppet = await corp.RegisterPuppetAsync(Client, app.Puppets);
        (await Client.PostAsJsonAsync("/puppetWxkfManager/deregister", new { kfId = puppet.KfId, corpId = corp.CorpId }, Ct)).EnsureSuccessStatusCode();
        var callback = corp.Callback(puppet.KfId);
        (await Client.PostAsync(callback.Path, callback.Content(), Ct)).EnsureSuccessStatusCode();
        var id = (await DeadLetterForAsync(puppet.KfId)).GetProperty("id").GetString();

        using var replay = await Client.PostAsync($"/operator/dead-letters/{id}/replay", null, Ct);

        Assert.Equal(HttpStatusCode.Conflict, replay.StatusCode);
        var detail = (await replay.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("detail").GetString();
        Assert.Contains("deregistered", detail);
        Assert.Contains(puppet.KfId, detail);
        Assert.Equal(id, (await DeadLetterForAsync(puppet.KfId)).GetProperty("id").GetString());
    }

    [Fact]
    public async Task ReplayAll_SkipsDeadLettersOfPuppetsThatAreGone_SayingWhy()
    {
        var corp = new TestCorp();
        await corp.RegisterPuppetAsync(Client, app.Puppets);
        var stranger = TestCorp.NewKfId();
        var callback = corp.Callback(stranger);
        (await Client.PostAsync(callback.Path, callback.Content(), Ct)).EnsureSuccessStatusCode();
        var id = (await DeadLetterForAsync(stranger)).GetProperty("id").GetString();

        using var replay = await Client.PostAsync("/operator/dead-letters/replay", null, Ct);

        var answer = await replay.Content.ReadFromJsonAsync<JsonElement>(Ct);
        var skipped = answer.GetProperty("skipped").EnumerateArray().Single(s => s.GetProperty("id").GetString() == id);
        Assert.Equal(stranger, skipped.GetProperty("kfId").GetString());
        Assert.Contains("not registered", skipped.GetProperty("reason").GetString());
    }

    [Fact]
    public async Task Queue_CountsAnEventAWorkerHolds_AsPending_WhileItHasAnAge()
    {
        var corp = new TestCorp();
        var puppet = await corp.RegisterPuppetAsync(Client, app.Puppets);
        puppet.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        try
        {
            var callback = corp.Callback(puppet.KfId);
            (await Client.PostAsync(callback.Path, callback.Content(), Ct)).EnsureSuccessStatusCode();

            var queue = await Eventually.WaitForAsync<JsonElement>(async () =>
            {
                var view = await Client.GetFromJsonAsync<JsonElement>("/operator/queue", Ct);
                return view.GetProperty("inFlight").GetInt32() > 0 ? view : null;
            });

            Assert.True(queue.GetProperty("pending").GetInt32() >= queue.GetProperty("inFlight").GetInt32());
            Assert.Equal(JsonValueKind.Number, queue.GetProperty("oldestPendingAgeSeconds").ValueKind);
        }
        finally
        {
            puppet.Gate.TrySetResult();
        }
        await puppet.NextAsync();
    }

    private async Task<JsonElement> DeadLetterForAsync(string kfId) =>
        await Eventually.WaitForAsync<JsonElement>(async () =>
        {
            var dead = await Client.GetFromJsonAsync<List<JsonElement>>("/operator/dead-letters?limit=1000", Ct);
            return dead!.FirstOrDefault(d => d.GetProperty("kfId").GetString() == kfId) is { ValueKind: JsonValueKind.Object } found ? found : null;
        });
}
