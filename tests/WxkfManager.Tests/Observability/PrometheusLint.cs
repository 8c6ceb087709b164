using System.Globalization;
using System.Text.RegularExpressions;

namespace WxkfManager.Tests.Observability;

/// <summary>
/// The checks `promtool check metrics` makes on a text exposition, for tests (promtool itself is not on the
/// CI machines): HELP and TYPE for every family, TYPE before its samples, counters named *_total and nothing else,
/// no _count, _sum or _bucket but on histograms and summaries,
/// base units spelled out, snake_case names, one label set per family, well-formed histograms, no duplicates.
/// </summary>
public static partial class PrometheusLint
{
    public sealed record Sample(string Name, IReadOnlyDictionary<string, string> Labels, double Value);

    public sealed record Family(string Name, string Type, string Help, List<Sample> Samples);

    private static readonly string[] AbbreviatedOrNonBaseUnits =
        ["ms", "msec", "millis", "milliseconds", "us", "microseconds", "ns", "nanoseconds", "sec", "secs", "minutes", "hours", "days",
         "kb", "kib", "mb", "mib", "gb", "gib", "kilobytes", "megabytes", "gigabytes", "percent"];

    public static (Dictionary<string, Family> Families, List<string> Problems) Check(string exposition)
    {
        var families = new Dictionary<string, Family>(StringComparer.Ordinal);
        var help = new Dictionary<string, string>(StringComparer.Ordinal);
        var problems = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var line in exposition.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Length > 0))
        {
            if (line.StartsWith("# HELP ", StringComparison.Ordinal))
            {
                var parts = line[7..].Split(' ', 2);
                help[parts[0]] = parts.Length > 1 ? parts[1] : "";
                continue;
            }
            if (line.StartsWith("# TYPE ", StringComparison.Ordinal))
            {
                var parts = line[7..].Split(' ');
                if (families.ContainsKey(parts[0]))
                {
                    problems.Add($"{parts[0]}: TYPE declared twice");
                }
                families[parts[0]] = new Family(parts[0], parts[1], "", []);
                continue;
            }
            if (line.StartsWith('#'))
            {
                continue;
            }
            var match = SampleLine().Match(line);
            if (!match.Success)
            {
                problems.Add($"unparsable line: {line}");
                continue;
            }
            var name = match.Groups["name"].Value;
            var labels = LabelPair().Matches(match.Groups["labels"].Value).ToDictionary(m => m.Groups["key"].Value, m => m.Groups["value"].Value);
            if (!double.TryParse(match.Groups["value"].Value.Replace("+Inf", "Infinity").Replace("-Inf", "-Infinity"), NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
            {
                problems.Add($"{name}: value '{match.Groups["value"].Value}' is not a number");
            }
            if (!seen.Add(name + "{" + string.Join(",", labels.OrderBy(l => l.Key).Select(l => $"{l.Key}={l.Value}")) + "}"))
            {
                problems.Add($"{line}: duplicate series");
            }
            var family = FamilyOf(name, families);
            if (family is null)
            {
                problems.Add($"{name}: sample without a preceding TYPE");
                continue;
            }
            family.Samples.Add(new Sample(name, labels, value));
        }
        // HELP may come before or after TYPE (promtool takes either); it must come for every family.
        foreach (var name in families.Keys.ToList())
        {
            families[name] = families[name] with { Help = help.GetValueOrDefault(name) ?? "" };
            problems.AddRange(Lint(families[name]));
        }
        return (families, problems);
    }

    private static Family? FamilyOf(string sampleName, Dictionary<string, Family> families)
    {
        if (families.TryGetValue(sampleName, out var exact))
        {
            return exact;
        }
        foreach (var suffix in new[] { "_bucket", "_sum", "_count" })
        {
            if (sampleName.EndsWith(suffix, StringComparison.Ordinal)
                && families.TryGetValue(sampleName[..^suffix.Length], out var histogram) && histogram.Type is "histogram" or "summary")
            {
                return histogram;
            }
        }
        return null;
    }

    private static IEnumerable<string> Lint(Family family)
    {
        var name = family.Name;
        if (string.IsNullOrWhiteSpace(family.Help))
        {
            yield return $"{name}: no HELP text";
        }
        if (!SnakeCase().IsMatch(name))
        {
            yield return $"{name}: metric names should be snake_case";
        }
        if (family.Type == "counter" && !name.EndsWith("_total", StringComparison.Ordinal))
        {
            yield return $"{name}: counter metrics should have \"_total\" suffix";
        }
        if (family.Type != "counter" && name.EndsWith("_total", StringComparison.Ordinal))
        {
            yield return $"{name}: non-counter metrics should not have \"_total\" suffix";
        }
        if (family.Type is not "histogram" and not "summary"
            && new[] { "_count", "_sum", "_bucket" }.FirstOrDefault(suffix => name.EndsWith(suffix, StringComparison.Ordinal)) is { } reserved)
        {
            yield return $"{name}: non-histogram and non-summary metrics should not have \"{reserved}\" suffix";
        }
        foreach (var token in name.Split('_').Where(t => AbbreviatedOrNonBaseUnits.Contains(t)))
        {
            yield return $"{name}: use base units (seconds, bytes, ratio) spelled out, not \"{token}\"";
        }
        var labelSets = family.Samples.Select(s => string.Join(",", s.Labels.Keys.Where(k => k is not "le" and not "quantile").Order())).Distinct().ToList();
        if (labelSets.Count > 1)
        {
            yield return $"{name}: inconsistent label sets: {string.Join(" | ", labelSets)}";
        }
        foreach (var label in family.Samples.SelectMany(s => s.Labels.Keys).Distinct().Where(l => !SnakeCase().IsMatch(l) || l.StartsWith("__", StringComparison.Ordinal)))
        {
            yield return $"{name}: label name {label} should be snake_case and not reserved";
        }
        if (family.Type == "histogram")
        {
            foreach (var problem in LintHistogram(family))
            {
                yield return problem;
            }
        }
    }

    private static IEnumerable<string> LintHistogram(Family family)
    {
        var bySeries = family.Samples.GroupBy(s => string.Join(",", s.Labels.Where(l => l.Key != "le").OrderBy(l => l.Key).Select(l => $"{l.Key}={l.Value}")));
        foreach (var series in bySeries)
        {
            var buckets = series.Where(s => s.Name.EndsWith("_bucket", StringComparison.Ordinal)).ToList();
            var count = series.FirstOrDefault(s => s.Name.EndsWith("_count", StringComparison.Ordinal));
            if (buckets.Count == 0 || count is null || series.All(s => !s.Name.EndsWith("_sum", StringComparison.Ordinal)))
            {
                yield return $"{family.Name}{{{series.Key}}}: histogram needs _bucket, _sum and _count";
                continue;
            }
            if (buckets.Any(b => !b.Labels.ContainsKey("le")) || buckets[^1].Labels["le"] != "+Inf")
            {
                yield return $"{family.Name}{{{series.Key}}}: buckets need le, the last +Inf";
                continue;
            }
            if (buckets[^1].Value != count.Value)
            {
                yield return $"{family.Name}{{{series.Key}}}: +Inf bucket differs from _count";
            }
            for (var i = 1; i < buckets.Count; i++)
            {
                if (buckets[i].Value < buckets[i - 1].Value)
                {
                    yield return $"{family.Name}{{{series.Key}}}: buckets are not cumulative";
                }
            }
        }
    }

    [GeneratedRegex("""^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>.*)\})?\s+(?<value>\S+)(\s+\d+)?$""")]
    private static partial Regex SampleLine();

    [GeneratedRegex("""(?<key>[a-zA-Z_][a-zA-Z0-9_]*)="(?<value>(?:[^"\\]|\\.)*)",?""")]
    private static partial Regex LabelPair();

    [GeneratedRegex("^[a-z_:][a-z0-9_:]*$")]
    private static partial Regex SnakeCase();
}
