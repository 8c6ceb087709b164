using NetArchTest.Rules;

namespace WxkfManager.Tests.Architecture;

/// <summary>
/// The dependency rule of docs/architecture.md, read from the compiled assembly: each folder (namespace) uses only
/// the ones listed for it, so the folders form layers without cycles and no feature touches a database driver.
/// </summary>
public sealed class DependencyRuleTests
{
    private const string Root = "WxkfManager.";

    /// <summary>Each namespace and the namespaces of this service it may use (its own and Crypto's always).</summary>
    public static readonly Dictionary<string, string[]> Allowed = new()
    {
        ["Settings"] = [],
        ["Metrics"] = [],
        ["Security"] = ["Settings"],
        ["WeCom"] = ["Settings", "Security"],
        ["Registry"] = ["Settings", "Security", "Metrics"],
        ["Delivery"] = ["Settings", "Security", "Metrics", "Registry"],
        ["Tokens"] = ["Settings", "Security", "Metrics", "Registry", "WeCom"],
        ["Storage"] = ["Settings", "Security", "Metrics", "Registry", "Delivery", "Tokens"],
        ["Callbacks"] = ["Settings", "Security", "Metrics", "Registry", "Delivery", "Storage"],
        ["Apis"] = ["Settings", "Security", "Metrics", "Registry", "Delivery", "Tokens", "WeCom", "Callbacks", "Storage"],
        ["OperatorConsole"] = ["Settings", "Security", "Metrics", "Registry", "Delivery", "Tokens", "WeCom", "Callbacks", "Storage", "Apis"],
    };

    /// <summary>The database drivers: only Storage (and the composition root, which checks MONGO_URI at start) uses them.</summary>
    private static readonly string[] Drivers = ["Microsoft.Data.Sqlite", "MongoDB"];

    private static readonly string[] Everything =
        [.. Allowed.Keys, "Extensions", "Storage.Sqlite", "Storage.Mongo"];

    public static TheoryData<string> Namespaces() => [.. Allowed.Keys];

    [Theory]
    [MemberData(nameof(Namespaces))]
    public void Namespace_UsesOnlyTheNamespacesTheRuleAllows(string name)
    {
        // Storage's subfolders (Sqlite, Mongo) are the implementations: Storage may use them, nobody else may, even
        // where Storage itself (its status and failure types) is allowed. A namespace's rule covers its subfolders.
        var forbidden = Everything
            .Where(other => other != name && !IsInside(other, name) && !Allowed[name].Contains(other))
            .Where(other => !(IsInside(other, "Storage") && name == "Storage"))
            .ToArray();
        var types = Types.InAssembly(typeof(Program).Assembly).That().ResideInNamespace(Root + name);

        var offenders = forbidden
            .SelectMany(other => Types.InAssembly(typeof(Program).Assembly).That().ResideInNamespace(Root + name)
                .ShouldNot().HaveDependencyOn(Root + other).GetResult().FailingTypeNames ?? [])
            .Distinct()
            .ToList();

        Assert.NotEmpty(types.GetTypes());
        Assert.True(offenders.Count == 0, $"{name} uses a namespace the rule forbids ({string.Join(", ", forbidden)}): {string.Join(", ", offenders)}");
    }

    [Fact]
    public void OnlyStorage_UsesTheDatabaseDrivers()
    {
        foreach (var driver in Drivers)
        {
            var offenders = Types.InAssembly(typeof(Program).Assembly)
                .That().DoNotResideInNamespace(Root + "Storage").And().DoNotResideInNamespace(Root + "Extensions")
                .ShouldNot().HaveDependencyOn(driver).GetResult().FailingTypeNames ?? [];
            Assert.True(offenders.Count == 0, $"{driver} used outside Storage: {string.Join(", ", offenders)}");
        }
    }

    [Fact]
    public void TheRule_HasNoCycles()
    {
        var visiting = new HashSet<string>();
        var done = new HashSet<string>();
        void Visit(string node, Stack<string> path)
        {
            Assert.False(visiting.Contains(node), "cycle: " + string.Join(" → ", path.Reverse().Append(node)));
            if (!done.Add(node))
            {
                return;
            }
            visiting.Add(node);
            path.Push(node);
            foreach (var next in Allowed[node])
            {
                Visit(next, path);
            }
            path.Pop();
            visiting.Remove(node);
        }
        foreach (var node in Allowed.Keys)
        {
            Visit(node, new Stack<string>());
        }
    }

    private static bool IsInside(string inner, string outer) => inner.StartsWith(outer + ".", StringComparison.Ordinal);
}
