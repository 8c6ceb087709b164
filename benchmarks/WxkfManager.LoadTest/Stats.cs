using System.Globalization;

namespace WxkfManager.LoadTest;

public static class Stats
{
    /// <summary>Nearest-rank percentile of ascending values; NaN when there are none.</summary>
    public static double Percentile(IReadOnlyList<double> ascending, double p)
    {
        if (ascending.Count == 0)
        {
            return double.NaN;
        }
        var index = (int)Math.Ceiling(p / 100 * ascending.Count) - 1;
        return ascending[Math.Clamp(index, 0, ascending.Count - 1)];
    }

    public static string F(double value, string format = "F2") =>
        double.IsNaN(value) ? "n/a" : double.IsPositiveInfinity(value) ? "∞" : value.ToString(format, CultureInfo.InvariantCulture);

    public static string N(double value) => value.ToString("N0", CultureInfo.InvariantCulture);

    public static string Ratio(double numerator, double denominator) =>
        denominator == 0 || double.IsNaN(numerator) || double.IsNaN(denominator) ? "n/a" : F(numerator / denominator);
}
