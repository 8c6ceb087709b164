namespace WxkfManager.Tests.Infrastructure;

/// <summary>The repository's own files (README, Dockerfile, compose files), found above the test binaries.</summary>
public static class RepositoryFiles
{
    public static string Root { get; } = FindRoot();

    public static string Read(string relativePath) => File.ReadAllText(Path.Combine(Root, relativePath));

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "WxkfManager.sln")))
            {
                return directory.FullName;
            }
        }
        throw new InvalidOperationException("WxkfManager.sln not found above " + AppContext.BaseDirectory);
    }
}
