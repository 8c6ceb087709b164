namespace WxkfManager.Extensions;

/// <summary>
/// Where appsettings.json is read from. Normally the working directory (the image's /app); but
/// <c>dotnet run --project src/WxkfManager</c> runs in the directory the user typed it in, so that relative
/// DATA_DIR and LOG_PATH (./data, ./logs) land there, and appsettings.json is then found beside the binaries.
/// </summary>
public static class ContentRoot
{
    public static string? Choose()
    {
        const string Settings = "appsettings.json";
        return !File.Exists(Path.Combine(Directory.GetCurrentDirectory(), Settings)) && File.Exists(Path.Combine(AppContext.BaseDirectory, Settings))
            ? AppContext.BaseDirectory
            : null;
    }
}
