namespace WxkfManager.Tests.Infrastructure;

/// <summary>
/// What every test passes to what it awaits: the token xUnit cancels when a test is aborted or times out.
/// Imported everywhere with a global <c>using static</c> (see the test projects' files).
/// </summary>
public static class TestScope
{
    public static CancellationToken Ct => TestContext.Current.CancellationToken;
}
