namespace WxkfManager.Cli;

/// <summary><c>--name value</c> pairs after the command; unknown or missing options are reported by name.</summary>
internal sealed class CliArguments
{
    private readonly Dictionary<string, string> _values;

    private CliArguments(Dictionary<string, string> values) => _values = values;

    public static CliArguments? TryParse(IReadOnlyList<string> args, IReadOnlySet<string> allowed, out string? error)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Count; i++)
        {
            var name = args[i];
            if (!name.StartsWith("--", StringComparison.Ordinal) || !allowed.Contains(name[2..]))
            {
                error = $"unknown option '{name}'";
                return null;
            }
            if (i + 1 >= args.Count)
            {
                error = $"option '{name}' needs a value";
                return null;
            }
            values[name[2..]] = args[++i];
        }
        error = null;
        return new CliArguments(values);
    }

    public string? Optional(string name) => _values.GetValueOrDefault(name);

    public string Required(string name, List<string> missing)
    {
        if (_values.TryGetValue(name, out var value) && !string.IsNullOrEmpty(value))
        {
            return value;
        }
        missing.Add("--" + name);
        return "";
    }
}
