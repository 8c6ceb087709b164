using System.Diagnostics.CodeAnalysis;
using System.Xml;

namespace WxkfManager.Crypto;

/// <summary>
/// Reads WeCom's flat XML (<c>&lt;xml&gt;&lt;Field&gt;value&lt;/Field&gt;...&lt;/xml&gt;</c>) into a field map,
/// with DTDs prohibited and no external resolution, so an XXE or entity-expansion payload is refused.
/// Documents in exactly the flat shape WeCom sends are read over spans by <see cref="FlatXmlScanner"/>
/// (an <c>XmlReader</c> allocates a ~4K-character buffer per document); everything else goes to <c>XmlReader</c>.
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
        return TryReadFlat(xml, out var fields) ? fields : ReadWithXmlReader(xml);
    }

    /// <summary>
    /// Reads only the fields named in <paramref name="names"/>: <paramref name="values"/>[i] gets the value of
    /// names[i], or null when absent, and the rest of the document is checked but never becomes strings.
    /// False, with every value null, when the document is not well-formed.
    /// </summary>
    internal static bool TryReadFields(string? xml, ReadOnlySpan<string> names, Span<string?> values)
    {
        values.Clear();
        if (string.IsNullOrWhiteSpace(xml))
        {
            return false;
        }
        Span<int> contentStarts = stackalloc int[names.Length];
        Span<int> contentLengths = stackalloc int[names.Length];
        contentStarts.Fill(-1);
        var scanner = new FlatXmlScanner(xml);
        while (scanner.MoveNext())
        {
            var index = IndexOf(names, scanner.Name);
            if (index >= 0 && contentStarts[index] < 0)
            {
                contentStarts[index] = scanner.ContentStart;
                contentLengths[index] = scanner.Content.Length;
            }
        }
        if (scanner.Completed)
        {
            for (var i = 0; i < names.Length; i++)
            {
                values[i] = contentStarts[i] < 0 ? null : FlatXmlScanner.Decode(xml.AsSpan(contentStarts[i], contentLengths[i]));
            }
            return true;
        }
        var fields = ReadWithXmlReader(xml);
        if (fields is null)
        {
            return false;
        }
        for (var i = 0; i < names.Length; i++)
        {
            values[i] = fields.GetValueOrDefault(names[i]);
        }
        return true;
    }

    /// <summary>The strict span reader alone: false when the document is not in WeCom's flat shape (XmlReader then decides).</summary>
    internal static bool TryReadFlat(string xml, [NotNullWhen(true)] out Dictionary<string, string>? fields)
    {
        fields = new Dictionary<string, string>(StringComparer.Ordinal);
        var lookup = fields.GetAlternateLookup<ReadOnlySpan<char>>();
        var scanner = new FlatXmlScanner(xml);
        while (scanner.MoveNext())
        {
            if (!lookup.ContainsKey(scanner.Name))
            {
                lookup[scanner.Name] = FlatXmlScanner.Decode(scanner.Content);
            }
        }
        if (!scanner.Completed)
        {
            fields = null;
        }
        return fields is not null;
    }

    /// <summary>The platform's parser: the only reader of anything outside the flat shape.</summary>
    internal static Dictionary<string, string>? ReadWithXmlReader(string xml)
    {
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
                // Reading on makes the parser check what follows the root.
                while (reader.Read())
                {
                }
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

    private static int IndexOf(ReadOnlySpan<string> names, ReadOnlySpan<char> name)
    {
        for (var i = 0; i < names.Length; i++)
        {
            if (name.SequenceEqual(names[i]))
            {
                return i;
            }
        }
        return -1;
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
