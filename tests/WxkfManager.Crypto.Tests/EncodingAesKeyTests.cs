using WxkfManager.Crypto;

namespace WxkfManager.Crypto.Tests;

public sealed class EncodingAesKeyTests
{
    [Fact]
    public void Generated_Key_Parses()
    {
        var text = EncodingAesKey.Generate();

        Assert.Equal(43, text.Length);
        Assert.True(EncodingAesKey.TryParse(text, out var key, out var error));
        Assert.NotNull(key);
        Assert.Null(error);
    }

    [Theory]
    [InlineData(null, "required")]
    [InlineData("", "required")]
    [InlineData("short", "43 characters")]
    [InlineData("jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C=", "43 characters")]
    [InlineData("jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2!", "Base64")]
    [InlineData("jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B 2", "Base64")]
    public void Malformed_Key_IsRefusedWithReason(string? text, string reason)
    {
        Assert.False(EncodingAesKey.TryParse(text, out var key, out var error));
        Assert.Null(key);
        Assert.Contains(reason, error);
    }

    [Fact]
    public void Parse_OfMalformedKey_Throws()
    {
        Assert.Throws<FormatException>(() => EncodingAesKey.Parse("nope"));
    }
}
