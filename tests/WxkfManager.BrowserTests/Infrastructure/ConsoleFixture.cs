using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using WxkfManager.Tests.Infrastructure;

namespace WxkfManager.BrowserTests.Infrastructure;

/// <summary>The manager on loopback Kestrel with an operator key, and one headless Chromium for a test class.</summary>
public sealed class ConsoleFixture : IAsyncLifetime
{
    public const string OperatorKey = "operator-key-for-browser-tests-0123";

    public ManagerApp App { get; } = new ManagerApp()
        .With("MANAGER_OPERATOR_KEY", OperatorKey)
        .With("Console:LiveSampleInterval", "00:00:00.250");

    public ChromeDriver? Driver { get; private set; }

    public Uri BaseAddress => App.Client.BaseAddress!;

    public async ValueTask InitializeAsync()
    {
        await App.InitializeAsync();
        App.Client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", OperatorKey);
        if (Browser.MissingReason is null)
        {
            Driver = Browser.Start();
        }
    }

    public ChromeDriver Open(string path)
    {
        Browser.SkipUnlessAvailable();
        Driver!.Navigate().GoToUrl(new Uri(BaseAddress, path));
        return Driver;
    }

    /// <summary>Signs in through the form, as an operator would; answers the page the browser lands on.</summary>
    public ChromeDriver SignIn(string key = OperatorKey)
    {
        var driver = Open("/console/login");
        driver.Manage().Cookies.DeleteAllCookies();
        driver.Navigate().GoToUrl(new Uri(BaseAddress, "/console/login"));
        driver.FindElement(By.Id("key")).SendKeys(key);
        driver.FindElement(By.Id("sign-in")).Click();
        Browser.WaitFor(() => driver.Url.Contains("/console/fleet") || driver.Url.Contains("failed=1"), "the sign-in to answer");
        return driver;
    }

    public async ValueTask DisposeAsync()
    {
        Driver?.Quit();
        Driver?.Dispose();
        await App.DisposeAsync();
    }
}
