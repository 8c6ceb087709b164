namespace WxkfManager.Tests.Infrastructure;

/// <summary>The lines a running manager has written to its log files so far (it appends in shared mode).</summary>
public static class LogFiles
{
    public static IReadOnlyList<string> ReadLines(string logDirectory)
    {
        var lines = new List<string>();
        foreach (var file in Directory.GetFiles(logDirectory))
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var reader = new StreamReader(stream);
            while (reader.ReadLine() is { } line)
            {
                lines.Add(line);
            }
        }
        return lines;
    }
}
