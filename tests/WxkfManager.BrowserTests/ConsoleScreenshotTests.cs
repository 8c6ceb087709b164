using System.Net.Http.Json;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using WxkfManager.Tests.Infrastructure;

namespace WxkfManager.BrowserTests;

/// <summary>
/// Every page at a laptop's and a phone's width: it fits (no sideways scrolling) and is captured. The PNGs go to
/// WXKF_CONSOLE_SCREENSHOTS when set (docs/console is made that way, see README), else to a temporary directory.
/// </summary>
public sealed class ConsoleScreenshotTests(ConsoleFixture fixture) : IClassFixture<ConsoleFixture>
{
    [Fact]
    public async Task EveryPage_FitsA1280And390PxWideScreen_AndIsCaptured()
    {
        Browser.SkipUnlessAvailable();
        await SeedAsync();
        var configured = Environment.GetEnvironmentVariable("WXKF_CONSOLE_SCREENSHOTS");
        var keep = !string.IsNullOrEmpty(configured);
        var directory = keep ? configured! : Path.Combine(Path.GetTempPath(), "wxkf-console-screenshots", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        try
        {
            Capture(directory);
        }
        finally
        {
            if (!keep)
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }

    private void Capture(string directory)
    {
        var driver = fixture.SignIn();

        foreach (var (width, height) in new[] { (1280, 900), (390, 844) })
        {
            foreach (var (page, ready) in Pages)
            {
                Browser.Viewport(driver, width, height);
                driver.Navigate().GoToUrl(new Uri(fixture.BaseAddress, "/console/" + page));
                Browser.WaitFor(() => ready(driver), $"the {page} page's data at {width} px");
                var js = (IJavaScriptExecutor)driver;
                var overflow = Convert.ToInt64(js.ExecuteScript("return document.documentElement.scrollWidth - document.documentElement.clientWidth;"));
                Assert.True(overflow <= 0, $"{page} at {width} px scrolls sideways by {overflow} px");

                // The whole page in one picture: grow the viewport to the content's height.
                var full = Convert.ToInt32(js.ExecuteScript("return document.documentElement.scrollHeight;"));
                Browser.Viewport(driver, width, Math.Clamp(full, height, 2400));
                Thread.Sleep(150);
                var file = Path.Combine(directory, $"{page}-{width}.png");
                driver.GetScreenshot().SaveAsFile(file);
                Assert.True(new FileInfo(file).Length > 10_000, $"{file} is suspiciously small");
            }
        }
    }

    private static readonly (string Page, Func<ChromeDriver, bool> Ready)[] Pages =
    [
        ("fleet", d => d.FindElements(By.CssSelector("#fleet-table tbody tr[data-state='unreachable']")).Count > 0
                       && d.FindElements(By.CssSelector("#fleet-table tbody tr")).Count >= 4),
        ("queue", d => d.FindElements(By.CssSelector("#dead-table tbody tr")).Count >= 2 && d.FindElement(By.Id("q-queued")).Text != "–"),
        ("live", d => int.TryParse(d.FindElement(By.Id("chart-deliveries")).GetAttribute("data-points"), out var points) && points >= 8),
        ("tokens", d => d.FindElements(By.CssSelector("#tokens-table tbody tr")).Count >= 2
                        && d.FindElements(By.CssSelector("#tokens-table .badge.online")).Count >= 2),
    ];

    /// <summary>A small fleet with something on every page: traffic, an unreachable puppet, dead letters, refusals, a cached token.</summary>
    private async Task SeedAsync()
    {
        var client = fixture.App.Client;
        var shop = new TestCorp("ww" + "shop" + Guid.NewGuid().ToString("N")[..12]);
        var support = new TestCorp("ww" + "support" + Guid.NewGuid().ToString("N")[..9]);
        var front = await RegisterAsync(shop, "wkFrontDesk", "Front desk");
        var after = await RegisterAsync(shop, "wkAfterSales", "After-sales");
        var help = await RegisterAsync(support, "wkHelpdesk", "Helpdesk");

        var downKfId = "wkWarehouse" + Guid.NewGuid().ToString("N")[..10];
        var down = $"http://127.0.0.1:{StubServer.FreePort()}/p/warehouse";
        (await client.PostAsJsonAsync("/puppetWxkfManager/register", Named(shop, downKfId, down, "Warehouse"), Ct)).EnsureSuccessStatusCode();
        (await client.PostAsync($"/operator/puppets/{downKfId}/test-event?waitSeconds=0", null, Ct)).EnsureSuccessStatusCode();

        var gone = await RegisterAsync(support, "wkNightShift", "Night shift");
        (await client.PostAsJsonAsync("/puppetWxkfManager/deregister", new { kfId = gone.KfId, corpId = support.CorpId }, Ct)).EnsureSuccessStatusCode();
        for (var i = 0; i < 3; i++)
        {
            var late = support.Callback(gone.KfId);
            (await client.PostAsync(late.Path, late.Content(), Ct)).EnsureSuccessStatusCode();
        }

        (await client.GetAsync($"/puppetWxkfManager/getToken?corpid={shop.CorpId}&corpsecret={SecretOf(shop)}", Ct)).EnsureSuccessStatusCode();
        (await client.GetAsync($"/puppetWxkfManager/getToken?corpid={support.CorpId}&corpsecret={SecretOf(support)}", Ct)).EnsureSuccessStatusCode();

        // A few seconds of traffic, so the Live charts have a shape.
        var puppets = new[] { (shop, front), (shop, after), (support, help) };
        for (var round = 0; round < 16; round++)
        {
            for (var i = 0; i <= round % 4; i++)
            {
                var (corp, puppet) = puppets[(round + i) % puppets.Length];
                var callback = corp.Callback(puppet.KfId);
                (await client.PostAsync(callback.Path, callback.Content(), Ct)).EnsureSuccessStatusCode();
            }
            if (round % 5 == 2)
            {
                var forged = shop.Callback(front.KfId);
                await client.PostAsync(forged.Path.Replace(forged.Signature, new string('0', 40)), forged.Content(), Ct);
            }
            await Task.Delay(200, Ct);
        }
    }

    private async Task<PuppetStub.Puppet> RegisterAsync(TestCorp corp, string kfIdPrefix, string name)
    {
        var puppet = fixture.App.Puppets.Add(kfIdPrefix + Guid.NewGuid().ToString("N")[..8], corp.CorpId, corp.Token, corp.EncodingAesKey);
        (await fixture.App.Client.PostAsJsonAsync("/puppetWxkfManager/register", Named(corp, puppet.KfId, puppet.Endpoint, name), Ct)).EnsureSuccessStatusCode();
        return puppet;
    }

    // The fake WeCom hands out tokens for secrets that start so.
    private static string SecretOf(TestCorp corp) => "right-secret-" + corp.CorpId;

    // Latin names here: a CI machine may have no CJK fonts, and the screenshots go in the docs.
    private static object Named(TestCorp corp, string kfId, string endpoint, string name) => new
    {
        kfId,
        kfName = name,
        endpoint,
        corpId = corp.CorpId,
        corpSecret = SecretOf(corp),
        token = corp.Token,
        encodingAESKey = corp.EncodingAesKey,
    };
}
