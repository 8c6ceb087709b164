using System.Text;
using System.Xml;

namespace WxkfManager.Crypto;

/// <summary>The outer XML WeCom POSTs to a callback URL: who it is for and the encrypted event.</summary>
public sealed record CallbackEnvelope(string? ToUserName, string? AgentId, string Encrypt)
{
    public static CallbackEnvelope? TryParse(string? xml)
    {
        var fields = FlatXml.TryRead(xml);
        if (fields is null || !fields.TryGetValue("Encrypt", out var encrypt) || string.IsNullOrWhiteSpace(encrypt))
        {
            return null;
        }
        return new CallbackEnvelope(fields.GetValueOrDefault("ToUserName"), fields.GetValueOrDefault("AgentID"), encrypt.Trim());
    }

    public string ToXml()
    {
        var builder = new StringBuilder();
        using (var writer = XmlWriter.Create(builder, new XmlWriterSettings { OmitXmlDeclaration = true }))
        {
            writer.WriteStartElement("xml");
            WriteCData(writer, "ToUserName", ToUserName ?? "");
            WriteCData(writer, "AgentID", AgentId ?? "");
            WriteCData(writer, "Encrypt", Encrypt);
            writer.WriteEndElement();
        }
        return builder.ToString();
    }

    private static void WriteCData(XmlWriter writer, string name, string value)
    {
        writer.WriteStartElement(name);
        writer.WriteCData(value);
        writer.WriteEndElement();
    }
}
