using System.Globalization;
using System.Text;
using Serilog.Core;
using Serilog.Events;

namespace WxkfManager.Extensions;

/// <summary>
/// Escapes control characters (CR, LF, ESC, …) and Unicode line separators in every property of a text log
/// event, so a request path, corp id or kfId that came from outside can neither start a forged log line nor
/// send escape sequences to an operator's terminal. JSON logs need none of this: their formatter escapes.
/// </summary>
public sealed class ControlCharacterEscaper : ILogEventEnricher
{
    public void Enrich(LogEvent logEvent, ILogEventPropertyFactory propertyFactory)
    {
        List<LogEventProperty>? changed = null;
        foreach (var (name, value) in logEvent.Properties)
        {
            var escaped = Escape(value);
            if (!ReferenceEquals(escaped, value))
            {
                (changed ??= []).Add(new LogEventProperty(name, escaped));
            }
        }
        foreach (var property in changed ?? [])
        {
            logEvent.AddOrUpdateProperty(property);
        }
    }

    /// <summary>The value itself when nothing needs escaping, so clean events cost no allocation.</summary>
    public static LogEventPropertyValue Escape(LogEventPropertyValue value)
    {
        switch (value)
        {
            case ScalarValue { Value: string text }:
                return NeedsEscaping(text) ? new ScalarValue(Escape(text)) : value;
            case ScalarValue { Value: not null and not IFormattable and not bool } scalar
                when scalar.Value.ToString() is { } rendered && NeedsEscaping(rendered):
                // Objects logged as scalars (a PathString, a Uri) render through ToString.
                return new ScalarValue(Escape(rendered));
            case SequenceValue sequence:
                var elements = sequence.Elements.Select(Escape).ToList();
                return elements.SequenceEqual(sequence.Elements, ReferenceEqualityComparer.Instance) ? value : new SequenceValue(elements);
            case StructureValue structure:
                var properties = structure.Properties.Select(p => (Original: p, Escaped: Escape(p.Value))).ToList();
                return properties.All(p => ReferenceEquals(p.Original.Value, p.Escaped))
                    ? value
                    : new StructureValue(properties.Select(p => new LogEventProperty(p.Original.Name, p.Escaped)), structure.TypeTag);
            case DictionaryValue dictionary:
                var entries = dictionary.Elements.Select(e => (Key: (ScalarValue)Escape(e.Key), Value: Escape(e.Value), Original: e)).ToList();
                return entries.All(e => ReferenceEquals(e.Key, e.Original.Key) && ReferenceEquals(e.Value, e.Original.Value))
                    ? value
                    : new DictionaryValue(entries.Select(e => new KeyValuePair<ScalarValue, LogEventPropertyValue>(e.Key, e.Value)));
            default:
                return value;
        }
    }

    public static bool NeedsEscaping(string text) => text.AsSpan().IndexOfAny(SearchValuesOfControls) >= 0;

    public static string Escape(string text)
    {
        var builder = new StringBuilder(text.Length + 16);
        foreach (var c in text)
        {
            if (!IsControl(c))
            {
                builder.Append(c);
                continue;
            }
            builder.Append(c switch
            {
                '\r' => "\\r",
                '\n' => "\\n",
                '\t' => "\\t",
                _ => "\\u" + ((int)c).ToString("x4", CultureInfo.InvariantCulture),
            });
        }
        return builder.ToString();
    }

    private static bool IsControl(char c) => char.IsControl(c) || c is '\u2028' or '\u2029';

    private static readonly System.Buffers.SearchValues<char> SearchValuesOfControls = System.Buffers.SearchValues.Create(
        [.. Enumerable.Range(0, 0x20).Select(i => (char)i), .. Enumerable.Range(0x7f, 0x21).Select(i => (char)i), '\u2028', '\u2029']);
}
