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

    public static CallbackEvent? TryParse(string? xml)
    {
        var fields = FlatXml.TryRead(xml);
        if (fields is null)
        {
            return null;
        }
        return new CallbackEvent(
            fields.GetValueOrDefault("ToUserName"),
            fields.GetValueOrDefault("CreateTime"),
            fields.GetValueOrDefault("MsgType"),
            fields.GetValueOrDefault("Event"),
            fields.GetValueOrDefault("Token"),
            fields.GetValueOrDefault("OpenKfId"));
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
