using System.Net.Http.Json;
using OpenQA.Selenium;
using Microsoft.Extensions.DependencyInjection;
using WxkfManager.OperatorConsole;
using WxkfManager.Registry;
using WxkfManager.Tests.Infrastructure;

namespace WxkfManager.BrowserTests;

/// <summary>The console's pages driven in headless Chromium against the real service, a puppet stub and a fake WeCom.</summary>
public sealed class ConsoleBrowserTests(ConsoleFixture fixture) : IClassFixture<ConsoleFixture>
{
    private static IWebElement FleetRow(IWebDriver driver, string kfId) =>
        Browser.WaitFor(() => driver.FindOrNull(By.CssSelector($"#fleet-table tr[data-kfid='{kfId}']")), $"the fleet row of {kfId}");

    private static string RowState(IWebDriver driver, string kfId) => FleetRow(driver, kfId).GetAttribute("data-state") ?? "";

    [Fact]
    public void SignIn_WithTheRightKey_OpensTheFleet_AndKeepsOnlyAnHttpOnlySessionCookie()
    {
        var driver = fixture.SignIn();

        Assert.EndsWith("/console/fleet", driver.Url);
        Browser.WaitFor(() => driver.FindElement(By.Id("fleet-summary")).Text.Contains("puppet(s) shown"), "the fleet to load");
        var cookie = driver.Manage().Cookies.GetCookieNamed(ConsoleAuthentication.CookieName);
        Assert.NotNull(cookie);
        Assert.True(cookie.IsHttpOnly);
        Assert.Equal("Strict", cookie.SameSite);
        Assert.DoesNotContain(ConsoleFixture.OperatorKey, cookie.Value);
        // Nothing the page script can read holds the key: no readable cookie, no web storage.
        var js = (IJavaScriptExecutor)driver;
        Assert.Equal("", js.ExecuteScript("return document.cookie;"));
        Assert.Equal(0L, js.ExecuteScript("return localStorage.length + sessionStorage.length;"));
        Assert.True(driver.FindElement(By.Id("open-warning")).GetAttribute("hidden") is not null);
    }

    [Fact]
    public void SignIn_WithAWrongKey_StaysOnTheSignInPage_AndThePagesStayClosed()
    {
        var driver = fixture.SignIn("not-the-operator-key-at-all");

        Assert.Contains("/console/login?failed=1", driver.Url);
        Assert.True(driver.FindElement(By.Id("login-failed")).Displayed);
        Assert.Null(driver.Manage().Cookies.GetCookieNamed(ConsoleAuthentication.CookieName));
        driver.Navigate().GoToUrl(new Uri(fixture.BaseAddress, "/console/queue"));
        Assert.Contains("/console/login", driver.Url);
    }

    [Fact]
    public async Task Fleet_ShowsAPuppetUnreachableWhileItsStubIsDown_AndOnlineWhenItComesBack()
    {
        var port = StubServer.FreePort();
        var corp = new TestCorp();
        var kfId = TestCorp.NewKfId();
        var stub = await PuppetStub.StartAsync(port);
        var puppet = stub.Add(kfId, corp.CorpId, corp.Token, corp.EncodingAesKey, name: "comes-back");
        (await fixture.App.Client.PostAsJsonAsync("/puppetWxkfManager/register", corp.Registration(kfId, puppet.Endpoint), Ct)).EnsureSuccessStatusCode();
        var driver = fixture.SignIn();
        Assert.Equal(FleetStates.Online, Browser.WaitFor(() => RowState(driver, kfId) is { Length: > 0 } s ? s : null, "a state"));

        await stub.DisposeAsync();
        // The test event is the probe: its delivery fails, and keeps being retried while the stub is down.
        FleetRow(driver, kfId).FindElement(By.CssSelector("button.test-event")).Click();
        Browser.WaitFor(() => RowState(driver, kfId) == FleetStates.Unreachable, "the puppet to show unreachable");
        var row = FleetRow(driver, kfId);
        Assert.Contains("connection failed", row.Text);
        // How long it has been unreachable, under its state.
        Assert.Matches(@"unreachable\s+for \d+ (s|min)", row.FindElement(By.CssSelector("td[data-label='State']")).Text);

        await using var restarted = await PuppetStub.StartAsync(port);
        var back = restarted.Add(kfId, corp.CorpId, corp.Token, corp.EncodingAesKey, name: "comes-back");
        Browser.WaitFor(() => RowState(driver, kfId) == FleetStates.Online, "the puppet to come back online", seconds: 15);
        Assert.StartsWith(TestEventSimulator.SyncTokenPrefix, (await back.NextAsync()).Token);
    }

    [Fact]
    public async Task Queue_ReplayingADeadLetter_AfterConfirmation_DeliversIt()
    {
        var corp = new TestCorp();
        var puppet = await corp.RegisterPuppetAsync(fixture.App.Client, fixture.App.Puppets);
        (await fixture.App.Client.PostAsJsonAsync("/puppetWxkfManager/deregister", new { kfId = puppet.KfId, corpId = corp.CorpId }, Ct)).EnsureSuccessStatusCode();
        var callback = corp.Callback(puppet.KfId, syncToken: "dead-then-replayed");
        (await fixture.App.Client.PostAsync(callback.Path, callback.Content(), Ct)).EnsureSuccessStatusCode();
        // Back through the store alone, as through another replica: a registration here would release the
        // dead letter on its own, leaving nothing for the operator to replay.
        var registeredAgain = fixture.App.Puppets.Add(puppet.KfId, corp.CorpId, corp.Token, corp.EncodingAesKey);
        await fixture.App.Services.GetRequiredService<IPuppetRegistry>().UpsertAsync(new PuppetRegistration(
            puppet.KfId, "back", registeredAgain.Endpoint, corp.CorpId, corp.CorpSecret, corp.Token, corp.EncodingAesKey,
            Online: true, LastOnlineDate: null, RegisteredAt: DateTime.UtcNow), Ct);
        await fixture.App.Services.GetRequiredService<PuppetDirectory>().RefreshAsync(Ct);
        var driver = fixture.SignIn();
        driver.Navigate().GoToUrl(new Uri(fixture.BaseAddress, "/console/queue"));

        var row = Browser.WaitFor(() => driver.FindOrNull(By.CssSelector($"#dead-table tr[data-kfid='{puppet.KfId}']")), "the dead letter");
        Assert.Contains("puppet is deregistered", row.Text);
        row.FindElement(By.CssSelector("button.replay")).Click();
        var dialog = driver.FindElement(By.Id("confirm"));
        Browser.WaitFor(() => dialog.Displayed, "the confirmation");
        Assert.Contains(puppet.KfId, dialog.Text);
        driver.FindElement(By.Id("confirm-ok")).Click();

        Assert.Equal("dead-then-replayed", (await registeredAgain.NextAsync()).Token);
        Browser.WaitFor(() => driver.FindOrNull(By.CssSelector($"#dead-table tr[data-kfid='{puppet.KfId}']")) is null, "the dead letter to leave the list");
        Assert.Contains("Replayed 1", driver.FindElement(By.Id("replay-result")).Text);
    }

    [Fact]
    public async Task Simulator_SendsATestEvent_TheStubVerifiesWithItsOwnCredentials()
    {
        var corp = new TestCorp();
        var puppet = await corp.RegisterPuppetAsync(fixture.App.Client, fixture.App.Puppets);
        var driver = fixture.SignIn();

        FleetRow(driver, puppet.KfId).FindElement(By.CssSelector("button.test-event")).Click();

        var result = driver.FindElement(By.Id("test-result"));
        Browser.WaitFor(() => result.GetAttribute("data-state") == "delivered", "the test event's outcome");
        Assert.Contains("attempts: 1", result.Text);
        Assert.Contains("accepted (HTTP 2xx)", result.Text);
        // The stub answers 2xx only after opening the callback with its own token and key, for its own kfId.
        var received = await puppet.NextAsync();
        Assert.StartsWith(TestEventSimulator.SyncTokenPrefix, received.Token);
        Assert.Contains(received.Token!, result.Text);
        Assert.Equal(1, puppet.Received);
    }
}
