using System.Xml;

namespace WxkfManager.Crypto;

/// <summary>
/// Reads WeCom's flat XML (<c>&lt;xml&gt;&lt;Field&gt;value&lt;/Field&gt;...&lt;/xml&gt;</c>) into a field map,
/// with DTDs prohibited and no external resolution, so an XXE or entity-expansion payload is refused.
/// </summary>
public static class FlatXml
{
    public const int MaxCharacters = 1 << 20;

    private static readonly XmlReaderSettings Settings = new()
    {
        DtdProcessing = DtdProcessing.Prohibit,
        XmlResolver = null,
        IgnoreComments = true,
        IgnoreProcessingInstructions = true,
        IgnoreWhitespace = true,
        MaxCharactersInDocument = MaxCharacters,
        MaxCharactersFromEntities = 0,
        CloseInput = true,
    };

    /// <summary>The root's child elements and their text (CDATA included); first occurrence wins. Null when not well-formed.</summary>
    public static IReadOnlyDictionary<string, string>? TryRead(string? xml)
    {
        if (string.IsNullOrWhiteSpace(xml))
        {
            return null;
        }
        try
        {
            using var reader = XmlReader.Create(new StringReader(xml), Settings);
            if (reader.MoveToContent() != XmlNodeType.Element)
            {
                return null;
            }
            var fields = new Dictionary<string, string>(StringComparer.Ordinal);
            if (reader.IsEmptyElement)
            {
                return fields;
            }
            var rootDepth = reader.Depth;
            reader.Read();
            while (!reader.EOF && reader.Depth > rootDepth)
            {
                if (reader.NodeType == XmlNodeType.Element)
                {
                    var name = reader.LocalName;
                    fields.TryAdd(name, ReadText(reader));
                }
                else
                {
                    reader.Read();
                }
            }
            // Reading to the end makes the parser check everything after the root too.
            while (reader.Read())
            {
            }
            return fields;
        }
        catch (XmlException)
        {
            return null;
        }
    }

    // Collects the element's own text and CDATA, skipping nested elements, and leaves the reader after it.
    private static string ReadText(XmlReader reader)
    {
        if (reader.IsEmptyElement)
        {
            reader.Read();
            return "";
        }
        var depth = reader.Depth;
        var text = new System.Text.StringBuilder();
        reader.Read();
        while (!reader.EOF && reader.Depth > depth)
        {
            if (reader.Depth == depth + 1 && reader.NodeType is XmlNodeType.Text or XmlNodeType.CDATA or XmlNodeType.SignificantWhitespace)
            {
                text.Append(reader.Value);
            }
            reader.Read();
        }
        reader.Read();
        return text.ToString();
    }
}
