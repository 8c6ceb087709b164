using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;

namespace WxkfManager.BrowserTests.Infrastructure;

/// <summary>
/// Headless Chromium through chromedriver (Debian's chromium and chromium-driver packages, or CHROME_BIN and
/// CHROMEDRIVER). When either is missing the browser tests are reported as skipped with the reason, never passed.
/// </summary>
public static class Browser
{
    public static readonly string? ChromiumPath = Find(Environment.GetEnvironmentVariable("CHROME_BIN"), "chromium", "chromium-browser", "google-chrome");
    public static readonly string? DriverPath = Find(Environment.GetEnvironmentVariable("CHROMEDRIVER"), "chromedriver");

    public static string? MissingReason =>
        ChromiumPath is null ? "Chromium is not installed (apt-get install chromium chromium-driver, or set CHROME_BIN)"
        : DriverPath is null ? "chromedriver is not installed (apt-get install chromium-driver, or set CHROMEDRIVER)"
        : null;

    public static void SkipUnlessAvailable() => Assert.SkipWhen(MissingReason is not null, MissingReason ?? "");

    public static ChromeDriver Start()
    {
        var service = ChromeDriverService.CreateDefaultService(Path.GetDirectoryName(DriverPath)!, Path.GetFileName(DriverPath));
        service.SuppressInitialDiagnosticInformation = true;
        service.HideCommandPromptWindow = true;
        var options = new ChromeOptions { BinaryLocation = ChromiumPath };
        // No sandbox: CI runs as root in a container. No network beyond loopback is needed or wanted.
        options.AddArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
            "--window-size=1280,900", "--no-first-run", "--disable-extensions", "--lang=en-US");
        var driver = new ChromeDriver(service, options, TimeSpan.FromSeconds(60));
        driver.Manage().Timeouts().ImplicitWait = TimeSpan.Zero;
        return driver;
    }

    /// <summary>Sets the page's viewport as a phone or a laptop would have it (Chrome's own windows have a minimum width).</summary>
    public static void Viewport(ChromeDriver driver, int width, int height) =>
        driver.ExecuteCdpCommand("Emulation.setDeviceMetricsOverride", new Dictionary<string, object?>
        {
            ["width"] = width,
            ["height"] = height,
            ["deviceScaleFactor"] = 1,
            ["mobile"] = width < 600,
        });

    /// <summary>Polls (100 ms) until the condition holds; elements replaced by a refresh meanwhile are simply looked up again.</summary>
    public static T WaitFor<T>(Func<T?> probe, string what, double seconds = 10)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        Exception? last = null;
        while (true)
        {
            try
            {
                if (probe() is { } value && (value is not bool flag || flag))
                {
                    return value;
                }
            }
            catch (Exception exception) when (exception is StaleElementReferenceException or NoSuchElementException)
            {
                last = exception;
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"timed out after {seconds} s waiting for {what}", last);
            }
            Thread.Sleep(100);
        }
    }

    public static IWebElement? FindOrNull(this ISearchContext context, By by) => context.FindElements(by).FirstOrDefault();

    private static string? Find(string? configured, params string[] names)
    {
        if (!string.IsNullOrEmpty(configured))
        {
            return File.Exists(configured) ? configured : null;
        }
        var directories = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
        return names.SelectMany(name => directories.Select(directory => Path.Combine(directory, name))).FirstOrDefault(File.Exists);
    }
}
