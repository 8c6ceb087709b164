using System.Globalization;

namespace WxkfManager.LoadTest;

/// <summary>Command-line knobs: --puppets 1000 --rate 1000 --seconds 10 --connections 32 --service path/to/WxkfManager.dll</summary>
public sealed record LoadOptions(int Puppets, int Rate, int Seconds, int Connections, string ServiceDll, string Label)
{
    public static LoadOptions Parse(string[] args)
    {
        string Get(string name, string fallback)
        {
            var index = Array.IndexOf(args, "--" + name);
            return index >= 0 && index + 1 < args.Length ? args[index + 1] : fallback;
        }
        int Int(string name, int fallback) => int.Parse(Get(name, fallback.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);

        return new LoadOptions(
            Puppets: Int("puppets", 1000),
            Rate: Int("rate", 0),
            Seconds: Int("seconds", 10),
            Connections: Int("connections", 32),
            ServiceDll: Get("service", ""),
            Label: Get("label", ""));
    }
}
