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

    /// <summary>
    /// All the log text, raw (a stray CR stays visible), once it says <paramref name="waitFor"/>;
    /// a <see cref="TimeoutException"/> after 10 s.
    /// </summary>
    public static async Task<string> WaitForAsync(string logDirectory, string waitFor)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        var text = "";
        while (DateTime.UtcNow < deadline)
        {
            text = string.Join('\n', Directory.Exists(logDirectory) ? Directory.GetFiles(logDirectory).Select(ReadAll) : []);
            if (text.Contains(waitFor, StringComparison.Ordinal))
            {
                return text;
            }
            await Task.Delay(50, Ct);
        }
        throw new TimeoutException($"the log never said '{waitFor}'");
    }

    private static string ReadAll(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
