using WxkfManager.Crypto;

namespace WxkfManager.Crypto.Tests;

public sealed class XmlTests
{
    [Fact]
    public void Envelope_WithXmlProlog_IsRead()
    {
        var envelope = CallbackEnvelope.TryParse(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<xml>\n  <ToUserName><![CDATA[corp]]></ToUserName>\n  <AgentID><![CDATA[1000002]]></AgentID>\n  <Encrypt><![CDATA[abc+/=]]></Encrypt>\n</xml>");

        Assert.NotNull(envelope);
        Assert.Equal("corp", envelope.ToUserName);
        Assert.Equal("1000002", envelope.AgentId);
        Assert.Equal("abc+/=", envelope.Encrypt);
    }

    [Fact]
    public void Envelope_RoundTripsThroughToXml()
    {
        var envelope = new CallbackEnvelope("corp", "1", "QUJD");

        Assert.Equal(envelope, CallbackEnvelope.TryParse(envelope.ToXml()));
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("not xml")]
    [InlineData("<xml><Encrypt>abc</xml>")]
    [InlineData("<xml><ToUserName>corp</ToUserName></xml>")]
    [InlineData("<xml><Encrypt>   </Encrypt></xml>")]
    [InlineData("<xml><Encrypt>abc</Encrypt></xml><xml/>")]
    public void Envelope_Malformed_IsNull(string xml)
    {
        Assert.Null(CallbackEnvelope.TryParse(xml));
    }

    [Fact]
    public void Xxe_ExternalEntity_IsRefused()
    {
        const string xxe = "<?xml version=\"1.0\"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]><xml><Encrypt>&xxe;</Encrypt></xml>";

        Assert.Null(FlatXml.TryRead(xxe));
        Assert.Null(CallbackEnvelope.TryParse(xxe));
    }

    [Fact]
    public void EntityExpansion_BillionLaughs_IsRefused()
    {
        const string laughs = "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">]><xml><Encrypt>&lol2;</Encrypt></xml>";

        Assert.Null(FlatXml.TryRead(laughs));
    }

    [Fact]
    public void NestedElements_AreSkipped_AndFirstOccurrenceWins()
    {
        var fields = FlatXml.TryRead("<xml><A>1<B>inner</B>2</A><A>second</A><C/></xml>");

        Assert.NotNull(fields);
        Assert.Equal("12", fields["A"]);
        Assert.Equal("", fields["C"]);
        Assert.False(fields.ContainsKey("B"));
    }

    [Fact]
    public void Event_RoundTripsThroughToXml()
    {
        var kfEvent = new CallbackEvent("corp", "1700000000", "event", CallbackEvent.KfMessageOrEvent, "tok]]>en", "wk123");

        var parsed = CallbackEvent.TryParse(kfEvent.ToXml());

        Assert.Equal(kfEvent, parsed);
        Assert.True(parsed!.IsKfMessageOrEvent);
    }

    [Fact]
    public void Event_OtherThanKf_IsNotKfMessageOrEvent()
    {
        var parsed = CallbackEvent.TryParse("<xml><Event>change_contact</Event></xml>");

        Assert.NotNull(parsed);
        Assert.False(parsed.IsKfMessageOrEvent);
        Assert.Null(parsed.OpenKfId);
    }
}
