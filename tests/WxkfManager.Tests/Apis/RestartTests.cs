namespace WxkfManager.Tests.Apis;

public sealed class RestartTests
{
    [Fact]
    public async Task Registrations_SurviveARestart_AndCallbacksStillRoute()
    {
        await using var puppets = await PuppetStub.StartAsync();
        var corp = new TestCorp();
        var online = puppets.Add(TestCorp.NewKfId(), corp.CorpId, corp.Token, corp.EncodingAesKey);
        var gone = puppets.Add(TestCorp.NewKfId(), corp.CorpId, corp.Token, corp.EncodingAesKey);
        string dataDirectory;

        await using (var first = new ManagerApp())
        {
            await first.InitializeAsync();
            dataDirectory = first.DataDirectory;
            (await first.Client.PostAsJsonAsync("/puppetWxkfManager/register", corp.Registration(online.KfId, online.Endpoint), Ct)).EnsureSuccessStatusCode();
            (await first.Client.PostAsJsonAsync("/puppetWxkfManager/register", corp.Registration(gone.KfId, gone.Endpoint), Ct)).EnsureSuccessStatusCode();
            (await first.Client.PostAsJsonAsync("/puppetWxkfManager/deregister", new { kfId = gone.KfId, corpId = corp.CorpId }, Ct)).EnsureSuccessStatusCode();
        }

        await using var second = new ManagerApp { DataDirectory = dataDirectory };
        await second.InitializeAsync();

        var info = await second.Client.GetFromJsonAsync<JsonElement>($"/puppetWxkfManager/puppetWxkfInfo/{online.KfId}", Ct);
        Assert.True(info.GetProperty("online").GetBoolean());
        var goneInfo = await second.Client.GetFromJsonAsync<JsonElement>($"/puppetWxkfManager/puppetWxkfInfo/{gone.KfId}", Ct);
        Assert.False(goneInfo.GetProperty("online").GetBoolean());
        Assert.Equal(JsonValueKind.String, goneInfo.GetProperty("lastOnlineDate").ValueKind);

        var callback = corp.Callback(online.KfId, syncToken: "after-restart");
        using var response = await second.Client.PostAsync(callback.Path, callback.Content(), Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("after-restart", (await online.NextAsync()).Token);
    }
}

public sealed class UnloadableRegistrationTests
{
    [Fact]
    public async Task ARowThatCannotLoad_DoesNotStopStartUp_IsListedForOperators_AndTheRestServes()
    {
        await using var puppets = await PuppetStub.StartAsync();
        var corp = new TestCorp();
        var good = puppets.Add(TestCorp.NewKfId(), corp.CorpId, corp.Token, corp.EncodingAesKey);
        var badKfId = TestCorp.NewKfId();
        string dataDirectory;
        await using (var first = new ManagerApp())
        {
            await first.InitializeAsync();
            dataDirectory = first.DataDirectory;
            (await first.Client.PostAsJsonAsync("/puppetWxkfManager/register", corp.Registration(good.KfId, good.Endpoint), Ct)).EnsureSuccessStatusCode();
            (await first.Client.PostAsJsonAsync("/puppetWxkfManager/register", corp.Registration(badKfId, good.Endpoint), Ct)).EnsureSuccessStatusCode();
        }
        // What the original would have stored as sent: a key WeCom's crypto cannot use.
        await using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(dataDirectory, "wxkf-manager.db")}"))
        {
            await connection.OpenAsync(Ct);
            await using var command = connection.CreateCommand();
            command.CommandText = "UPDATE puppets SET encoding_aes_key = 'malformed-key-value' WHERE kf_id = $kfId;";
            command.Parameters.AddWithValue("$kfId", badKfId);
            Assert.Equal(1, await command.ExecuteNonQueryAsync(Ct));
        }
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();

        await using var second = new ManagerApp { DataDirectory = dataDirectory };
        await second.InitializeAsync();

        var registry = await second.Client.GetFromJsonAsync<JsonElement>("/operator/registry", Ct);
        Assert.Equal(1, registry.GetProperty("loaded").GetInt32());
        var skipped = Assert.Single(registry.GetProperty("unloadable").EnumerateArray());
        Assert.Equal(badKfId, skipped.GetProperty("kfId").GetString());
        Assert.Equal("encodingAESKey", skipped.GetProperty("field").GetString());
        Assert.DoesNotContain("malformed-key-value", registry.GetRawText());
        var callback = corp.Callback(good.KfId, syncToken: "fleet-serves");
        using var response = await second.Client.PostAsync(callback.Path, callback.Content(), Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("fleet-serves", (await good.NextAsync()).Token);
        var metrics = await second.Client.GetStringAsync("/metrics", Ct);
        // Metrics are process-wide and other tests' apps run in this process too: the series is there, its value is theirs as much as ours.
        Assert.Contains("wxkf_puppets{state=\"unloadable\"}", metrics);
    }
}
