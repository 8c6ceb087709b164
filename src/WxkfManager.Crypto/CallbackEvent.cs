using System.Text;
using System.Xml;

namespace WxkfManager.Crypto;

/// <summary>
/// The decrypted event inside a callback. For WeChat Customer Service the interesting one is
/// <c>kf_msg_or_event</c>, whose Token lets the puppet pull new messages for OpenKfId.
/// </summary>
public sealed record CallbackEvent(
    string? ToUserName,
    string? CreateTime,
    string? MsgType,
    string? Event,
    string? Token,
    string? OpenKfId)
{
    public const string KfMessageOrEvent = "kf_msg_or_event";

    public bool IsKfMessageOrEvent => string.Equals(Event, KfMessageOrEvent, StringComparison.Ordinal);

    private static readonly string[] Fields = ["ToUserName", "CreateTime", "MsgType", "Event", "Token", "OpenKfId"];

    public static CallbackEvent? TryParse(string? xml)
    {
        Span<string?> values = [null, null, null, null, null, null];
        if (!FlatXml.TryReadFields(xml, Fields, values))
        {
            return null;
        }
        return new CallbackEvent(values[0], values[1], values[2], values[3], values[4], values[5]);
    }

    public string ToXml()
    {
        var builder = new StringBuilder();
        using (var writer = XmlWriter.Create(builder, new XmlWriterSettings { OmitXmlDeclaration = true }))
        {
            writer.WriteStartElement("xml");
            Write(writer, "ToUserName", ToUserName, cdata: true);
            Write(writer, "CreateTime", CreateTime, cdata: false);
            Write(writer, "MsgType", MsgType, cdata: true);
            Write(writer, "Event", Event, cdata: true);
            Write(writer, "Token", Token, cdata: true);
            Write(writer, "OpenKfId", OpenKfId, cdata: true);
            writer.WriteEndElement();
        }
        return builder.ToString();
    }

    private static void Write(XmlWriter writer, string name, string? value, bool cdata)
    {
        if (value is null)
        {
            return;
        }
        writer.WriteStartElement(name);
        if (cdata)
        {
            writer.WriteCData(value);
        }
        else
        {
            writer.WriteString(value);
        }
        writer.WriteEndElement();
    }
}
