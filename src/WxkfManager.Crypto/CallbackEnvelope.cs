using System.Text;
using System.Xml;

namespace WxkfManager.Crypto;

/// <summary>The outer XML WeCom POSTs to a callback URL: who it is for and the encrypted event.</summary>
public sealed record CallbackEnvelope(string? ToUserName, string? AgentId, string Encrypt)
{
    private static readonly string[] Fields = ["ToUserName", "AgentID", "Encrypt"];

    public static CallbackEnvelope? TryParse(string? xml)
    {
        Span<string?> values = [null, null, null];
        if (!FlatXml.TryReadFields(xml, Fields, values) || values[2] is not { } encrypt || string.IsNullOrWhiteSpace(encrypt))
        {
            return null;
        }
        return new CallbackEnvelope(values[0], values[1], encrypt.Trim());
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
