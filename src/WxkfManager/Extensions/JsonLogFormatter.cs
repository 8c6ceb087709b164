using Serilog.Events;
using Serilog.Formatting;
using Serilog.Formatting.Json;

namespace WxkfManager.Extensions;

/// <summary>
/// Serilog's compact JSON (@t, @mt, @x, properties) plus what operators grep and log pipelines expect on every
/// line: the level (@l, which the compact format leaves out for Information) and the rendered message (@m).
/// </summary>
public sealed class JsonLogFormatter : ITextFormatter
{
    private readonly JsonValueFormatter _values = new(typeTagName: "$type");

    public void Format(LogEvent logEvent, TextWriter output)
    {
        output.Write("{\"@t\":\"");
        output.Write(logEvent.Timestamp.UtcDateTime.ToString("O", System.Globalization.CultureInfo.InvariantCulture));
        output.Write("\",\"@l\":\"");
        output.Write(logEvent.Level);
        output.Write("\",\"@m\":");
        JsonValueFormatter.WriteQuotedJsonString(Render(logEvent), output);
        output.Write(",\"@mt\":");
        JsonValueFormatter.WriteQuotedJsonString(logEvent.MessageTemplate.Text, output);
        if (logEvent.Exception is not null)
        {
            output.Write(",\"@x\":");
            JsonValueFormatter.WriteQuotedJsonString(logEvent.Exception.ToString(), output);
        }
        if (logEvent.TraceId is { } traceId)
        {
            output.Write(",\"@tr\":\"");
            output.Write(traceId.ToHexString());
            output.Write('"');
        }
        foreach (var (name, value) in logEvent.Properties)
        {
            output.Write(',');
            // As in the compact format: a property that would read as one of the @-fields above gets a second @.
            JsonValueFormatter.WriteQuotedJsonString(name.StartsWith('@') ? "@" + name : name, output);
            output.Write(':');
            _values.Format(value, output);
        }
        output.Write('}');
        output.Write(Environment.NewLine);
    }

    /// <summary>The message as a person reads it: string values as they are, not in quotes as Serilog's default rendering puts them.</summary>
    private static string Render(LogEvent logEvent)
    {
        using var message = new StringWriter(System.Globalization.CultureInfo.InvariantCulture);
        foreach (var token in logEvent.MessageTemplate.Tokens)
        {
            if (token is Serilog.Parsing.PropertyToken { Format: null } property
                && logEvent.Properties.TryGetValue(property.PropertyName, out var value) && value is ScalarValue { Value: string text })
            {
                message.Write(text);
            }
            else
            {
                token.Render(logEvent.Properties, message, System.Globalization.CultureInfo.InvariantCulture);
            }
        }
        return message.ToString();
    }
}
