namespace WxkfManager.Tests.Process;

/// <summary>The built service started as an operator starts it: bad settings, the container's port variables.</summary>
public sealed class StartupProcessTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("wxkf-startup-").FullName;

    [Theory]
    [InlineData("PORT", "abc")]
    [InlineData("Delivery__Concurrency", "-1")]
    [InlineData("Delivery__AttemptTimeout", "5s")]
    [InlineData("Callback__MaxBodyBytes", "10")]
    public async Task InvalidSetting_ExitsWithCode1_AndOneLineNamingItAsWritten(string name, string value)
    {
        var (exitCode, output) = await ServiceProcess.RunToExitAsync(_directory, new Dictionary<string, string> { [name] = value }, TimeSpan.FromSeconds(60));

        Assert.Equal(1, exitCode);
        var fatal = Assert.Single(Lines(output), line => line.Contains("FTL", StringComparison.Ordinal));
        Assert.Contains(name, fatal);
        Assert.Contains(value, fatal);
        Assert.DoesNotContain("   at ", output);
        Assert.DoesNotContain("Unhandled exception", output);
    }

    [Fact]
    public async Task InvalidSetting_WithJsonLogs_IsOneJsonLine()
    {
        var (exitCode, output) = await ServiceProcess.RunToExitAsync(_directory,
            new Dictionary<string, string> { ["LOG_FORMAT"] = "json", ["Delivery__Concurrency"] = "-1" }, TimeSpan.FromSeconds(60));

        Assert.Equal(1, exitCode);
        var events = Lines(output).Select(line => JsonDocument.Parse(line).RootElement).ToList();
        var fatal = Assert.Single(events, e => e.GetProperty("@l").GetString() == "Fatal");
        Assert.Contains("Delivery__Concurrency", fatal.GetProperty("@m").GetString());
        Assert.Equal("Delivery__Concurrency", Assert.Single(fatal.GetProperty("Settings").EnumerateArray()).GetString());
    }

    [Fact]
    public async Task Port_WinsOverAspNetCoreHttpPorts_AsTheContainerImageSetsIt()
    {
        var imagePort = StubServer.FreePort();
        await using var service = await ServiceProcess.StartAsync(_directory,
            new Dictionary<string, string> { ["ASPNETCORE_HTTP_PORTS"] = imagePort.ToString() }, Ct);

        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(new Uri(service.BaseAddress, "/health"), Ct)).StatusCode);
        await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync($"http://127.0.0.1:{imagePort}/health", Ct));
        Assert.DoesNotContain(service.Output, line => line.Contains("Overriding HTTP_PORTS", StringComparison.Ordinal));
    }

    [Fact]
    public async Task WithoutPort_AspNetCoreHttpPortsIsHonoured()
    {
        var port = StubServer.FreePort();
        await using var service = await ServiceProcess.StartAsync(_directory,
            new Dictionary<string, string> { ["PORT"] = "", ["ASPNETCORE_HTTP_PORTS"] = port.ToString() }, Ct, port: port);

        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(new Uri(service.BaseAddress, "/health"), Ct)).StatusCode);
    }

    private static List<string> Lines(string output) =>
        [.. output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
