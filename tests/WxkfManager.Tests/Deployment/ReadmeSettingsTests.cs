using System.Reflection;
using System.Text.RegularExpressions;
using WxkfManager.Settings;

namespace WxkfManager.Tests.Deployment;

/// <summary>Every setting the code reads has a row in README's settings tables, with appsettings.json's value as its default.</summary>
public sealed partial class ReadmeSettingsTests
{
    private static readonly Type[] OptionsClasses = [typeof(StorageOptions), typeof(WeComOptions), typeof(DeliveryOptions), typeof(SecurityOptions), typeof(CallbackOptions), typeof(RegistrationOptions)];

    /// <summary>Options the original's flat environment variables set; README lists them by that name.</summary>
    private static readonly Dictionary<string, string> FlatNames = new()
    {
        ["Storage__MongoUri"] = "MONGO_URI",
        ["WeCom__AccessTokenUrl"] = "ACCESS_TOKEN_URL",
        ["Security__ManagementKey"] = "MANAGER_API_KEY",
        ["Security__ManagementNetworks"] = "MANAGER_ALLOWED_NETWORKS",
        ["Security__OperatorKey"] = "MANAGER_OPERATOR_KEY",
        ["Security__GatewayKey"] = "MANAGER_GATEWAY_KEY",
        ["Security__GatewayNetworks"] = "DECRYPTED_CALLBACK_NETWORKS",
        ["Security__SecretsEncryptionKey"] = "SECRETS_ENCRYPTION_KEY",
        ["Security__AllowedPuppetHosts"] = "Security__AllowedPuppetHosts__0",
    };

    private static Dictionary<string, string> ReadmeRows()
    {
        var rows = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in RepositoryFiles.Read("README.md").Split('\n').Where(l => l.StartsWith("| `", StringComparison.Ordinal)))
        {
            var cells = line.Split('|');
            foreach (Match name in Backticked().Matches(cells[1]))
            {
                rows[name.Groups[1].Value] = Backticked().Match(cells[2]) is { Success: true } value ? value.Groups[1].Value : cells[2].Trim();
            }
        }
        return rows;
    }

    [Fact]
    public void EveryOptionsProperty_HasARow()
    {
        var rows = ReadmeRows();
        var settings = OptionsClasses.SelectMany(type =>
        {
            var section = (string)type.GetField("Section")!.GetRawConstantValue()!;
            return type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite).Select(p => $"{section}__{p.Name}");
        });

        Assert.All(settings, setting => Assert.True(rows.ContainsKey(FlatNames.GetValueOrDefault(setting, setting)),
            $"README's settings tables have no row for {FlatNames.GetValueOrDefault(setting, setting)}"));
    }

    [Fact]
    public void EveryVariableReadDirectly_HasARow()
    {
        var rows = ReadmeRows();
        var source = Directory.GetFiles(Path.Combine(RepositoryFiles.Root, "src", "WxkfManager"), "*.cs", SearchOption.AllDirectories)
            .Select(File.ReadAllText);
        var read = source.SelectMany(text => DirectRead().Matches(text).Select(m => m.Groups[1].Value)).Distinct().ToList();

        Assert.Contains("PORT", read);
        Assert.All(read, name => Assert.True(rows.ContainsKey(name), $"the code reads {name}; README has no row for it"));
    }

    [Fact]
    public void EveryAppsettingsKey_HasARow_WithItsValueAsTheDefault()
    {
        var rows = ReadmeRows();
        using var json = JsonDocument.Parse(RepositoryFiles.Read("src/WxkfManager/appsettings.json"));

        foreach (var (key, value) in Leaves(json.RootElement, ""))
        {
            var name = FlatNames.GetValueOrDefault(key, key);
            Assert.True(rows.TryGetValue(name, out var documented), $"appsettings.json has {key}; README has no row for it");
            Assert.Equal(value, documented);
        }
    }

    private static IEnumerable<(string Key, string Value)> Leaves(JsonElement element, string prefix) => element.ValueKind == JsonValueKind.Object
        ? element.EnumerateObject().SelectMany(p => Leaves(p.Value, prefix.Length == 0 ? p.Name : $"{prefix}__{p.Name}"))
        : [(prefix, element.ToString())];

    [GeneratedRegex("`([^`]+)`")]
    private static partial Regex Backticked();

    [GeneratedRegex("""onfiguration\["([A-Za-z_]+)"\]""")]
    private static partial Regex DirectRead();
}
