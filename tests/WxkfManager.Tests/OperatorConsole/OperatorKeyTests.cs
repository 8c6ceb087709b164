using Microsoft.Extensions.Options;
using WxkfManager.OperatorConsole;
using WxkfManager.Settings;

namespace WxkfManager.Tests.OperatorConsole;

public sealed class OperatorKeyTests
{
    private sealed class Settable(SecurityOptions value) : IOptionsMonitor<SecurityOptions>
    {
        public SecurityOptions CurrentValue { get; set; } = value;
        public SecurityOptions Get(string? name) => CurrentValue;
        public IDisposable? OnChange(Action<SecurityOptions, string?> listener) => null;
    }

    [Fact]
    public void Matches_OnlyTheConfiguredKey()
    {
        var key = new OperatorKey(new Settable(new SecurityOptions { OperatorKey = "the-operator-key-0123" }));

        Assert.True(key.IsConfigured);
        Assert.True(key.Matches("the-operator-key-0123"));
        Assert.False(key.Matches("the-operator-key-0124"));
        Assert.False(key.Matches(""));
        Assert.False(key.Matches(null));
    }

    [Fact]
    public void WithOnlyThePuppetsKey_TheConsoleIsClosed_AndThePuppetKeyDoesNotOpenIt()
    {
        var key = new OperatorKey(new Settable(new SecurityOptions { ManagementKey = "the-puppet-key-0123456" }));

        Assert.True(key.IsConfigured);
        Assert.False(key.Matches("the-puppet-key-0123456"));
        Assert.False(key.Matches(""));
    }

    [Fact]
    public void WithoutAKey_NothingMatches_AndTheConsoleIsOpen()
    {
        var key = new OperatorKey(new Settable(new SecurityOptions()));

        Assert.False(key.IsConfigured);
        Assert.False(key.Matches(""));
        Assert.False(key.Matches("anything-at-all-here"));
    }

    [Fact]
    public void Fingerprint_ChangesWithTheKey_SoOldSessionsEnd_AndDoesNotContainIt()
    {
        var options = new Settable(new SecurityOptions { OperatorKey = "first-operator-key-0123" });
        var key = new OperatorKey(options);
        var first = key.Fingerprint;

        options.CurrentValue = new SecurityOptions { OperatorKey = "second-operator-key-0123" };

        Assert.NotEqual(first, key.Fingerprint);
        Assert.DoesNotContain("operator-key", first);
        Assert.Equal(32, first.Length);
    }
}
