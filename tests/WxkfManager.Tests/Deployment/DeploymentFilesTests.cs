using System.Text.RegularExpressions;
using WxkfManager.Settings;

namespace WxkfManager.Tests.Deployment;

/// <summary>
/// No Docker engine runs here, so the image and compose files are checked as text: the port the service
/// listens on, the one exposed, health-checked and mapped all agree, and compose passes what env.example lists.
/// </summary>
public sealed partial class DeploymentFilesTests
{
    private static readonly string[] ComposeFiles = ["docker-compose.yml", "docker/docker-compose.sqlite.yml"];

    [Fact]
    public void Dockerfile_ListensExposesAndHealthChecksTheSamePort()
    {
        var dockerfile = RepositoryFiles.Read("Dockerfile");

        var port = EnvValue(dockerfile, "PORT");
        Assert.Equal("3000", port);
        Assert.Matches(@$"(?m)^EXPOSE {port}\s*$", dockerfile);
        Assert.Matches(@"(?m)^\s+CMD curl .*http://127\.0\.0\.1:\$\{PORT\}/ready", dockerfile);
        // ASPNETCORE_URLS would win over PORT; ASPNETCORE_HTTP_PORTS (8080 in the base image) loses to it (see PortTests).
        Assert.DoesNotContain("ASPNETCORE_URLS", dockerfile);
        Assert.Equal("/data", EnvValue(dockerfile, "DATA_DIR"));
        Assert.Equal("/logs", EnvValue(dockerfile, "LOG_PATH"));
    }

    [Theory]
    [InlineData("docker-compose.yml")]
    [InlineData("docker/docker-compose.sqlite.yml")]
    public void Compose_MapsTheContainersPort_AndWaitsLongerThanTheShutdownGrace(string file)
    {
        var compose = RepositoryFiles.Read(file);

        Assert.Matches(@"(?m)^\s+PORT: ""3000""\s*$", compose);
        Assert.Matches(@"(?m)^\s+- ""\$\{WXKF_PORT:-3000\}:3000""\s*$", compose);
        var grace = StopGrace().Match(compose);
        Assert.True(grace.Success, $"{file} has no stop_grace_period");
        var appShutdown = new DeliveryOptions().ShutdownGrace + TimeSpan.FromSeconds(5);
        Assert.True(TimeSpan.FromSeconds(int.Parse(grace.Groups["seconds"].Value)) > appShutdown,
            $"{file}: stop_grace_period {grace.Value} must exceed the service's shutdown of {appShutdown}");
    }

    [Theory]
    [InlineData("docker-compose.yml")]
    [InlineData("docker/docker-compose.sqlite.yml")]
    public void Compose_PassesEveryVariableEnvExampleLists(string file)
    {
        var compose = RepositoryFiles.Read(file);
        var listed = EnvExampleVariable().Matches(RepositoryFiles.Read("docker/env.example"))
            .Select(m => m.Groups["name"].Value).Where(name => name != "WXKF_PORT").ToList();

        Assert.Superset(new HashSet<string>(listed), new HashSet<string> { "MONGO_URI", "ACCESS_TOKEN_URL", "MANAGER_API_KEY", "MANAGER_OPERATOR_KEY", "SECRETS_ENCRYPTION_KEY" });
        foreach (var name in listed)
        {
            Assert.Matches(@$"(?m)^\s+{name}: ""\$\{{{name}:-[^}}]*\}}""\s*$", compose);
        }
    }

    [Fact]
    public void SqliteCompose_IsRunFromTheRootWithTheRootEnvFile()
    {
        var readme = RepositoryFiles.Read("README.md");
        const string Command = "docker compose --env-file .env -f docker/docker-compose.sqlite.yml up -d";

        Assert.Contains(Command, RepositoryFiles.Read("docker/docker-compose.sqlite.yml"));
        Assert.Contains(Command, readme);
        Assert.Contains("cp docker/env.example .env", readme);
        Assert.Contains("build: ..", RepositoryFiles.Read("docker/docker-compose.sqlite.yml"));
    }

    [Fact]
    public void DockerIgnore_KeepsSecretsDocsAndBenchmarksOutOfTheBuildContext()
    {
        var entries = RepositoryFiles.Read(".dockerignore").Split('\n', StringSplitOptions.TrimEntries);

        Assert.Contains(".env", entries);
        Assert.Contains("docs/", entries);
        Assert.Contains("benchmarks/", entries);
        Assert.Contains("tests/", entries);
    }

    [Fact]
    public void Readme_DockerRun_MatchesTheImage()
    {
        var readme = RepositoryFiles.Read("README.md");
        var dockerfile = RepositoryFiles.Read("Dockerfile");

        Assert.Contains("docker run -d --name wxkf-manager -p 3000:3000 -v wxkf-data:/data -v wxkf-logs:/logs wxkf-manager", readme);
        Assert.Contains("VOLUME [\"/data\", \"/logs\"]", dockerfile);
        Assert.Matches(@"(?m)^HEALTHCHECK .*", dockerfile);
        Assert.Contains("health check on `/ready`", readme);
    }

    [Fact]
    public void Dockerfile_LetsTheJitOptimizeHotCodeOnOneCpu()
    {
        // Without it a container limited to one CPU ran twice the CPU per callback for minutes (docs/benchmarks.md).
        Assert.Equal("0", EnvValue(RepositoryFiles.Read("Dockerfile"), "DOTNET_TC_CallCountingDelayMs"));
    }

    private static string EnvValue(string dockerfile, string name) =>
        Regex.Match(dockerfile, @$"(?m)^(?:ENV\s+|\s+){name}=(?<value>\S+?)\s*\\?$").Groups["value"].Value;

    [GeneratedRegex(@"(?m)^\s+stop_grace_period: (?<seconds>\d+)s\s*$")]
    private static partial Regex StopGrace();

    [GeneratedRegex(@"(?m)^#?\s*(?<name>[A-Z][A-Z0-9_]+)=")]
    private static partial Regex EnvExampleVariable();
}
