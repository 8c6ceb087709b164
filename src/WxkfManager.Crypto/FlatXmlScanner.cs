using System.Buffers;

namespace WxkfManager.Crypto;

/// <summary>
/// A strict reader for exactly the flat shape WeCom sends: an optional plain XML declaration, a root element
/// without attributes, child elements holding text (with the five predefined entities) and CDATA sections,
/// whitespace between them, and nothing after the root but whitespace. It never allocates while scanning.
/// Anything else (a DOCTYPE, comments, processing instructions, attributes, prefixes, character references,
/// carriage returns, nested elements, characters XML forbids, documents past <see cref="MaxCharacters"/>)
/// makes it give up without an answer, and <see cref="FlatXml"/> hands the document to <c>XmlReader</c>:
/// the platform's parser, with its DTD refusal, stays the judge of everything exotic.
/// </summary>
internal ref struct FlatXmlScanner(ReadOnlySpan<char> xml)
{
    // WeCom's documents are a few hundred characters; bigger ones take the platform's path and its size limit.
    public const int MaxCharacters = 64 * 1024;

    private const string CDataOpen = "<![CDATA[";
    private const string CDataClose = "]]>";

    private readonly ReadOnlySpan<char> _xml = xml;
    private int _position;
    private int _rootNameStart;
    private int _rootNameLength;
    private bool _started;
    private bool _rootClosed;

    /// <summary>True once the whole document was read and it has the flat shape, so every field seen is the answer.</summary>
    public bool Completed { get; private set; }

    /// <summary>The current field's name, after <see cref="MoveNext"/> returned true.</summary>
    public ReadOnlySpan<char> Name { get; private set; }

    /// <summary>The current field's raw content (between its tags), already checked; <see cref="Decode"/> makes it a value.</summary>
    public ReadOnlySpan<char> Content { get; private set; }

    /// <summary>Where <see cref="Content"/> starts in the document, so a caller can keep it and decode it later.</summary>
    public int ContentStart { get; private set; }

    /// <summary>Moves to the next child element of the root; false at the end of the document or when it is not flat.</summary>
    public bool MoveNext()
    {
        if (Completed || (_started && _rootClosed))
        {
            return false;
        }
        if (!_started)
        {
            _started = true;
            if (_xml.Length > MaxCharacters || HasCharacterOutsideTheFlatShape(_xml) || !ReadProlog() || !ReadRootStart())
            {
                return Stop();
            }
            if (_rootClosed)
            {
                Completed = ReadTrailer();
                return false;
            }
        }
        SkipWhitespace();
        if (!StartsWith("<"))
        {
            return Stop();
        }
        if (StartsWith("</"))
        {
            _position += 2;
            if (!ReadName(out var start, out var length)
                || !_xml.Slice(start, length).SequenceEqual(_xml.Slice(_rootNameStart, _rootNameLength))
                || !ReadTagEnd(out var selfClosing) || selfClosing)
            {
                return Stop();
            }
            _rootClosed = true;
            Completed = ReadTrailer();
            return false;
        }
        _position++;
        return ReadField() || Stop();
    }

    /// <summary>The value XmlReader would give for checked content: text runs that are not all whitespace, entities decoded, CDATA as is.</summary>
    public static string Decode(ReadOnlySpan<char> content)
    {
        if (content.IsEmpty)
        {
            return "";
        }
        if (content.IndexOfAny('&', '<') < 0)
        {
            return IsAllWhitespace(content) ? "" : new string(content);
        }
        if (content.StartsWith(CDataOpen) && content.IndexOf(CDataClose) == content.Length - CDataClose.Length)
        {
            return new string(content[CDataOpen.Length..^CDataClose.Length]);
        }
        char[]? rented = null;
        Span<char> buffer = content.Length <= 256 ? stackalloc char[256] : (rented = ArrayPool<char>.Shared.Rent(content.Length));
        var written = 0;
        while (!content.IsEmpty)
        {
            if (content.StartsWith(CDataOpen))
            {
                var end = content.IndexOf(CDataClose);
                var inner = content[CDataOpen.Length..end];
                inner.CopyTo(buffer[written..]);
                written += inner.Length;
                content = content[(end + CDataClose.Length)..];
                continue;
            }
            var runLength = content.IndexOf('<');
            var run = runLength < 0 ? content : content[..runLength];
            content = content[run.Length..];
            if (!IsAllWhitespace(run))
            {
                written += DecodeEntities(run, buffer[written..]);
            }
        }
        var value = new string(buffer[..written]);
        if (rented is not null)
        {
            ArrayPool<char>.Shared.Return(rented);
        }
        return value;
    }

    private static int DecodeEntities(ReadOnlySpan<char> run, Span<char> destination)
    {
        var written = 0;
        while (!run.IsEmpty)
        {
            var amp = run.IndexOf('&');
            var literal = amp < 0 ? run : run[..amp];
            literal.CopyTo(destination[written..]);
            written += literal.Length;
            if (amp < 0)
            {
                break;
            }
            run = run[amp..];
            var length = PredefinedEntityLength(run, out var decoded);
            destination[written++] = decoded;
            run = run[length..];
        }
        return written;
    }

    // The five entities XML predefines; a character reference or any other name is left to XmlReader.
    private static int PredefinedEntityLength(ReadOnlySpan<char> text, out char decoded)
    {
        ReadOnlySpan<(string Entity, char Value)> predefined =
            [("&lt;", '<'), ("&gt;", '>'), ("&amp;", '&'), ("&quot;", '"'), ("&apos;", '\'')];
        foreach (var (entity, value) in predefined)
        {
            if (text.StartsWith(entity, StringComparison.Ordinal))
            {
                decoded = value;
                return entity.Length;
            }
        }
        decoded = '\0';
        return 0;
    }

    // Plain declarations only: anything with other attributes, quotes or spacing goes to XmlReader.
    private bool ReadProlog()
    {
        if (!StartsWith("<?"))
        {
            return true;
        }
        ReadOnlySpan<string> accepted =
        [
            "<?xml version=\"1.0\"?>",
            "<?xml version=\"1.0\" ?>",
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>",
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
            "<?xml version=\"1.0\" encoding=\"utf-8\" ?>",
            "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>",
        ];
        foreach (var declaration in accepted)
        {
            if (StartsWith(declaration))
            {
                _position += declaration.Length;
                return true;
            }
        }
        return false;
    }

    private bool ReadRootStart()
    {
        SkipWhitespace();
        if (!StartsWith("<"))
        {
            return false;
        }
        _position++;
        if (!ReadName(out _rootNameStart, out _rootNameLength) || !ReadTagEnd(out var selfClosing))
        {
            return false;
        }
        _rootClosed = selfClosing;
        return true;
    }

    private bool ReadField()
    {
        if (!ReadName(out var nameStart, out var nameLength) || !ReadTagEnd(out var selfClosing))
        {
            return false;
        }
        Name = _xml.Slice(nameStart, nameLength);
        ContentStart = _position;
        if (selfClosing)
        {
            Content = [];
            return true;
        }
        if (!ReadContent())
        {
            return false;
        }
        Content = _xml[ContentStart.._position];
        _position += 2;
        return ReadName(out var endStart, out var endLength)
            && _xml.Slice(endStart, endLength).SequenceEqual(Name)
            && ReadTagEnd(out var endSelfClosing) && !endSelfClosing;
    }

    // Checks a field's content up to its end tag's "</", leaving the position there. Characters were checked up front.
    private bool ReadContent()
    {
        while (true)
        {
            var next = _xml[_position..].IndexOfAny('<', '&', ']');
            if (next < 0)
            {
                return false;
            }
            _position += next;
            if (StartsWith("</"))
            {
                return true;
            }
            if (StartsWith(CDataOpen))
            {
                var end = _xml[(_position + CDataOpen.Length)..].IndexOf(CDataClose);
                if (end < 0)
                {
                    return false;
                }
                _position += CDataOpen.Length + end + CDataClose.Length;
            }
            else if (_xml[_position] == '&')
            {
                var length = PredefinedEntityLength(_xml[_position..], out _);
                if (length == 0)
                {
                    return false;
                }
                _position += length;
            }
            else if (_xml[_position] == ']' && !StartsWith(CDataClose))
            {
                _position++;
            }
            else
            {
                // "]]>" in text, a nested element, a comment or a processing instruction.
                return false;
            }
        }
    }

    // ASCII names without a prefix: the element's local name is then the name itself.
    private bool ReadName(out int start, out int length)
    {
        start = _position;
        if (_position < _xml.Length && (char.IsAsciiLetter(_xml[_position]) || _xml[_position] == '_'))
        {
            _position++;
            while (_position < _xml.Length && (char.IsAsciiLetterOrDigit(_xml[_position]) || _xml[_position] is '_' or '-' or '.'))
            {
                _position++;
            }
        }
        length = _position - start;
        return length > 0;
    }

    private bool ReadTagEnd(out bool selfClosing)
    {
        SkipWhitespace();
        selfClosing = StartsWith("/>");
        if (selfClosing || StartsWith(">"))
        {
            _position += selfClosing ? 2 : 1;
            return true;
        }
        return false;
    }

    private bool ReadTrailer()
    {
        SkipWhitespace();
        return _position == _xml.Length;
    }

    private bool Stop()
    {
        _rootClosed = true;
        return false;
    }

    private void SkipWhitespace()
    {
        while (_position < _xml.Length && IsWhitespace(_xml[_position]))
        {
            _position++;
        }
    }

    private readonly bool StartsWith(string text) => _xml[_position..].StartsWith(text, StringComparison.Ordinal);

    // Carriage returns are absent on purpose: XmlReader normalizes line ends, and WeCom never sends them.
    private static bool IsWhitespace(char c) => c is ' ' or '\t' or '\n';

    private static bool IsAllWhitespace(ReadOnlySpan<char> text) => text.IndexOfAnyExcept(' ', '\t', '\n') < 0;

    // Outside XML's Char production, or inside it but left to XmlReader: surrogates (it checks their pairing) and
    // '\r' (it normalizes line ends). Checked once for the whole document, vectorized.
    private static bool HasCharacterOutsideTheFlatShape(ReadOnlySpan<char> xml) =>
        xml.ContainsAnyInRange('\0', '\u0008')
        || xml.ContainsAnyInRange('\u000B', '\u001F')
        || xml.ContainsAnyInRange('\uD800', '\uDFFF')
        || xml.ContainsAny('\uFFFE', '\uFFFF');
}
