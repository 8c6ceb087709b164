using System.Text;
using FsCheck;
using FsCheck.Fluent;
using WxkfManager.Crypto;

namespace WxkfManager.Crypto.Tests;

/// <summary>
/// The span reader against XmlReader: for every document, generated or hostile, FlatXml must answer exactly
/// what the XmlReader path answers, and whenever the span reader claims a document it must agree with it.
/// </summary>
public sealed class FlatXmlDifferentialTests
{
    // Each list starts with pieces of the flat shape (the first Clean ones); the rest is for the platform's parser.
    private static readonly Pieces Prologs = new(6,
        "", "", "", "<?xml version=\"1.0\"?>", "<?xml version=\"1.0\" encoding=\"utf-8\"?>", "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>",
        "<?xml version=\"1.0\"?>\n", "  <?xml version=\"1.0\"?>", "<?xml version='1.0'?>", "<?xml version=\"1.1\"?>",
        "<?xml encoding=\"utf-8\" version=\"1.0\"?>", "<?xml version=\"1.0\" encoding=\"ascii\"?>", "<?xml version=\"1.0\" standalone=\"yes\"?>",
        "<?xml version=\"1.0\"  ?>", "<?XML version=\"1.0\"?>", "<?xml?>", "<!DOCTYPE xml>", "<!DOCTYPE xml [<!ENTITY e \"v\">]>",
        "<!DOCTYPE xml [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>", "<!-- c -->", "<?pi x?>", "\uFEFF", "\r\n", "x");

    private static readonly Pieces Names = new(14,
        "xml", "Encrypt", "ToUserName", "AgentID", "OpenKfId", "Token", "Event", "A", "A", "B", "_a", "a.b", "a-b", "a1",
        "xmlns", "XML", "xml-a", "a:b", "x:Encrypt", "1a", "-a", "é", "Ä中", "");

    private static readonly Pieces ContentPieces = new(28,
        "]]", ">",
        "abc", "abc", "wk123", "  ", " x ", "\t", "\n", "", "a]b", "a]]b", "a>b", "]", "中文", "&amp;", "&lt;", "&gt;", "&quot;", "&apos;",
        "&lt;&amp;lt;", "<![CDATA[x]]>", "<![CDATA[x]]>", "<![CDATA[]]>", "<![CDATA[  ]]>", "<![CDATA[a]]b]]>", "<![CDATA[<tag>&amp;]]>",
        "<![CDATA[ENCApHxnGDNAVNY4AaSJKj4Tb5mwsEMz+/=]]>",
        "tok]]>en", "\r", "\r\n", "a\rb", "\0", "\u0001", "\u001F", "\uFFFE", "\uFFFF", "\uD800", "\uDC00", "\uD83D\uDE00",
        "&amp", "&#60;", "&#x3C;", "&#32;", "&#x20;", "&foo;", "&", "&xxe;", "<", "<!-- c -->", "<?pi?>", "<B>inner</B>", "<B/>", "<B>", "</B>",
        "<![CDATA[unterminated", "<![CDATA[\r\n]]>", "<![CDATA[\0]]>", "<![cdata[x]]>");

    private static readonly Pieces Gaps = new(6,
        "", "", " ", "\n", "\n  ", "\t", "\r\n", "\r", "x", "&amp;", "<!-- c -->", "<?pi?>", "<![CDATA[x]]>", "\u00A0");

    private static readonly Pieces TagTails = new(6,
        "", "", "", " ", "\n", "\t", " a=\"1\"", " xmlns=\"urn:x\"", " xmlns:x=\"urn:x\"", "\r", "\u00A0");

    private static readonly Pieces Trailers = new(5,
        "", "", "", "\n", "  ", "<xml/>", "x", "<!-- c -->", "<?pi?>", "\0", "\r\n", "</xml>", "<![CDATA[x]]>");

    [Fact]
    public void GeneratedDocuments_ReadAlike_ByTheSpanReaderAndXmlReader()
    {
        var random = new Random(20261203);
        var claimed = 0;
        var refused = 0;
        const int documents = 30_000;
        for (var i = 0; i < documents; i++)
        {
            var document = Generate(random);
            if (random.Next(4) == 0)
            {
                document = Mutate(random, document);
            }
            var (fast, reference) = AssertSameAnswer(document);
            claimed += fast ? 1 : 0;
            refused += reference is null ? 1 : 0;
        }
        // Neither side of the comparison may be vacuous: many documents take the span reader, many are refused.
        Assert.InRange(claimed, documents / 5, documents);
        Assert.InRange(refused, documents / 10, documents);
    }

    [Fact]
    public void ArbitraryText_InAField_OrAsTheWholeDocument_ReadsAlike()
    {
        Prop.ForAll(ArbMap.Default.ArbFor<string>(), ArbMap.Default.ArbFor<string>(), (first, second) =>
        {
            first ??= "";
            second ??= "";
            AssertSameAnswer(first);
            AssertSameAnswer($"<xml><A>{first}</A><A>{second}</A></xml>");
            AssertSameAnswer($"<xml><Encrypt><![CDATA[{first}]]></Encrypt><B>{second}</B></xml>");
            AssertSameAnswer($"<xml>{first}<A>x</A>{second}</xml>");
            return true;
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(2_000));
    }

    [Fact]
    public void HostileCorpus_ReadsAlike()
    {
        var bodies = HostileBodies().ToList();
        Assert.NotEmpty(bodies);
        foreach (var body in bodies)
        {
            AssertSameAnswer(body);
        }
    }

    [Theory]
    [InlineData("<xml><A>a<![CDATA[b]]>c</A></xml>")]
    [InlineData("<xml><A> <![CDATA[b]]> </A></xml>")]
    [InlineData("<xml><A>x <![CDATA[y]]>\n</A></xml>")]
    [InlineData("<xml><A>&lt;&amp;lt;&gt;&quot;&apos;</A></xml>")]
    [InlineData("<xml><A>  </A><B><![CDATA[  ]]></B><C/><D></D></xml>")]
    [InlineData("<xml><A>1</A><A>2</A></xml>")]
    [InlineData("<xml/>")]
    [InlineData("\n <xml >\n\t<A >v</A\n>\n</xml\t>\n")]
    public void WeComShapedDocuments_TakeTheSpanReader_AndReadAlike(string document)
    {
        Assert.True(FlatXml.TryReadFlat(document, out _), "the span reader should claim this document");
        AssertSameAnswer(document);
    }

    [Fact]
    public void CallbackDocuments_TakeTheSpanReader()
    {
        var envelope = new CallbackEnvelope("ww1234567890abcdef", "1000002", "QUJD+/=").ToXml();
        var kfEvent = new CallbackEvent("ww1234567890abcdef", "1700000000", "event", CallbackEvent.KfMessageOrEvent, "ENCApHxnGD", "wkAJ2GCAAA").ToXml();

        Assert.True(FlatXml.TryReadFlat(envelope, out _));
        Assert.True(FlatXml.TryReadFlat(kfEvent, out _));
    }

    [Fact]
    public void EmptyRoot_FollowedByGarbage_IsRefused()
    {
        Assert.Null(FlatXml.TryRead("<xml/>garbage"));
        Assert.Null(FlatXml.TryRead("<xml/><!DOCTYPE x>"));
        Assert.NotNull(FlatXml.TryRead("<xml/>\n"));
    }

    [Fact]
    public void ParsingAnEnvelope_AllocatesOnlyItsValues()
    {
        var envelope = new CallbackEnvelope("ww1234567890abcdef", "1000002", new string('Q', 344)).ToXml();
        var kfEvent = new CallbackEvent("ww1234567890abcdef", "1700000000", "event", CallbackEvent.KfMessageOrEvent, "ENCApHxnGD", "wkAJ2GCAAA").ToXml();
        var least = long.MaxValue;
        for (var i = 0; i < 20; i++)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            CallbackEnvelope.TryParse(envelope);
            CallbackEvent.TryParse(kfEvent);
            least = Math.Min(least, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        // The record and value strings: about 1.4 KB, against ~28 KB for two XmlReaders.
        Assert.InRange(least, 1, 2_048);
    }

    private static (bool Fast, Dictionary<string, string>? Reference) AssertSameAnswer(string document)
    {
        var reference = string.IsNullOrWhiteSpace(document) ? null : FlatXml.ReadWithXmlReader(document);
        var fast = !string.IsNullOrWhiteSpace(document) && FlatXml.TryReadFlat(document, out var flat) ? flat : null;
        if (fast is not null && (reference is null || !SameFields(fast, reference)))
        {
            Assert.Fail($"span reader {Show(fast)} but XmlReader {Show(reference)} for {Escape(document)}");
        }
        var answer = FlatXml.TryRead(document);
        if ((answer is null) != (reference is null) || (answer is not null && !SameFields(answer, reference!)))
        {
            Assert.Fail($"FlatXml.TryRead {Show(answer)} but XmlReader {Show(reference)} for {Escape(document)}");
        }
        string[] names = ["A", "Encrypt", "B", "xml", "Missing"];
        var values = new string?[names.Length];
        var read = FlatXml.TryReadFields(document, names, values);
        Assert.True(read == reference is not null, $"TryReadFields said {read} for {Escape(document)}");
        for (var i = 0; i < names.Length; i++)
        {
            Assert.True(values[i] == reference?.GetValueOrDefault(names[i]), $"field {names[i]} differs for {Escape(document)}");
        }
        var encrypt = reference?.GetValueOrDefault("Encrypt");
        var expectedEnvelope = string.IsNullOrWhiteSpace(encrypt) ? null
            : new CallbackEnvelope(reference!.GetValueOrDefault("ToUserName"), reference!.GetValueOrDefault("AgentID"), encrypt.Trim());
        Assert.Equal(expectedEnvelope, CallbackEnvelope.TryParse(document));
        return (fast is not null, reference);
    }

    private static bool SameFields(IReadOnlyDictionary<string, string> left, IReadOnlyDictionary<string, string> right) =>
        left.Count == right.Count && left.All(pair => right.TryGetValue(pair.Key, out var value) && value == pair.Value);

    // A document picks from the clean pieces, or, one time in three, from all of them at every choice.
    private static string Generate(Random random)
    {
        var wild = random.Next(3) == 0;
        string Pick(Pieces pieces) => wild && random.Next(6) == 0 ? pieces.Any(random) : pieces.Clean(random);
        var document = new StringBuilder();
        document.Append(Pick(Prologs)).Append(Pick(Gaps));
        var root = random.Next(4) == 0 ? Pick(Names) : "xml";
        document.Append('<').Append(root).Append(Pick(TagTails));
        if (random.Next(20) == 0)
        {
            return document.Append("/>").Append(Pick(Trailers)).ToString();
        }
        document.Append('>');
        var fields = random.Next(7);
        for (var f = 0; f < fields; f++)
        {
            var name = Pick(Names);
            document.Append(Pick(Gaps)).Append('<').Append(name).Append(Pick(TagTails));
            if (random.Next(8) == 0)
            {
                document.Append("/>");
                continue;
            }
            document.Append('>');
            for (var p = random.Next(4); p > 0; p--)
            {
                document.Append(Pick(ContentPieces));
            }
            var endName = random.Next(40) == 0 ? Names.Any(random) : name;
            document.Append("</").Append(endName).Append(Pick(TagTails)).Append('>');
        }
        document.Append(Pick(Gaps));
        if (random.Next(40) != 0)
        {
            document.Append("</").Append(random.Next(40) == 0 ? Names.Any(random) : root).Append('>');
        }
        return document.Append(Pick(Trailers)).ToString();
    }

    private static string Mutate(Random random, string document)
    {
        const string alphabet = "<>/&;![]?=\"' \t\n\rx\0\uD800\u00A0";
        var text = new StringBuilder(document);
        for (var m = random.Next(1, 4); m > 0 && text.Length > 0; m--)
        {
            var at = random.Next(text.Length);
            switch (random.Next(4))
            {
                case 0:
                    text.Remove(at, 1);
                    break;
                case 1:
                    text.Insert(at, alphabet[random.Next(alphabet.Length)]);
                    break;
                case 2:
                    text.Length = at;
                    break;
                default:
                    text.Insert(at, text.ToString(at, Math.Min(8, text.Length - at)));
                    break;
            }
        }
        return text.ToString();
    }

    private sealed class Pieces(int clean, params string[] all)
    {
        public string Clean(Random random) => all[random.Next(clean)];

        public string Any(Random random) => all[random.Next(all.Length)];
    }

    private static IEnumerable<string> HostileBodies()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "WxkfManager.sln")))
        {
            directory = directory.Parent;
        }
        Assert.NotNull(directory);
        foreach (var file in Directory.EnumerateFiles(Path.Combine(directory.FullName, "tests", "WxkfManager.Tests", "Security", "HostileCorpus"), "*.http"))
        {
            var text = File.ReadAllText(file);
            var firstLineEnd = text.IndexOf('\n');
            yield return firstLineEnd < 0 ? "" : text[(firstLineEnd + 1)..];
            yield return firstLineEnd < 0 ? "" : text[(firstLineEnd + 1)..].TrimEnd('\n');
        }
    }

    private static string Show(IReadOnlyDictionary<string, string>? fields) =>
        fields is null ? "null" : "{" + string.Join(", ", fields.Select(pair => $"{Escape(pair.Key)}={Escape(pair.Value)}")) + "}";

    private static string Escape(string text)
    {
        var escaped = new StringBuilder("\"");
        foreach (var c in text)
        {
            escaped.Append(c is < ' ' or > '~' ? $"\\u{(int)c:X4}" : c.ToString());
        }
        return escaped.Append('"').ToString();
    }
}
