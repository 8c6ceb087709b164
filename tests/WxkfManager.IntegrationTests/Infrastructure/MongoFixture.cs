using DotNet.Testcontainers.Builders;
using MongoDB.Bson;
using MongoDB.Driver;
using Testcontainers.MongoDb;

namespace WxkfManager.IntegrationTests.Infrastructure;

/// <summary>
/// A MongoDB server for the tests: the one <see cref="UriVariable"/> names, else a throwaway container.
/// Without either, every test reports itself skipped with the reason instead of passing.
/// </summary>
public sealed class MongoFixture : IAsyncLifetime
{
    public const string UriVariable = "WXKF_TEST_MONGO_URI";

    private readonly List<string> _databases = [];
    private MongoDbContainer? _container;
    private MongoClient? _client;
    private string? _serverUri;
    private string? _unavailableReason;
    private string _uri = "";

    /// <summary>A connection string naming this fixture's own database, as MONGO_URI would.</summary>
    public string Uri
    {
        get
        {
            SkipIfUnavailable();
            return _uri;
        }
    }

    private IMongoClient Client
    {
        get
        {
            SkipIfUnavailable();
            return _client ?? throw new InvalidOperationException("The fixture has not been initialized.");
        }
    }

    public async ValueTask InitializeAsync()
    {
        _serverUri = Environment.GetEnvironmentVariable(UriVariable);
        if (string.IsNullOrWhiteSpace(_serverUri))
        {
            try
            {
                _container = new MongoDbBuilder("mongo:7.0").Build();
                await _container.StartAsync(Ct);
            }
            catch (DockerUnavailableException exception)
            {
                _unavailableReason = string.Join(' ', exception.Message.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)).TrimEnd('.');
                return;
            }
            _serverUri = _container.GetConnectionString();
        }
        _client = new MongoClient(_serverUri);
        // A server named explicitly that does not answer fails every test here rather than skipping them.
        await _client.GetDatabase("admin").RunCommandAsync<BsonDocument>(
            new BsonDocument("ping", 1), cancellationToken: Ct);
        _uri = NewDatabaseUri();
    }

    public void SkipIfUnavailable()
    {
        if (_unavailableReason is not null)
        {
            Assert.Skip($"MongoDB not available: {_unavailableReason}. Set {UriVariable} or start a Docker engine.");
        }
    }

    /// <summary>A connection string naming a fresh database, dropped with the fixture.</summary>
    public string NewDatabaseUri()
    {
        SkipIfUnavailable();
        var builder = new MongoUrlBuilder(_serverUri ?? throw new InvalidOperationException("The fixture has not been initialized."));
        if (builder.Username is not null && builder.AuthenticationSource is null)
        {
            // Credentials authenticate against the URI's database unless told otherwise; keep the server's.
            builder.AuthenticationSource = builder.DatabaseName ?? "admin";
        }
        var name = "wxkf-test-" + Guid.NewGuid().ToString("N");
        _databases.Add(name);
        builder.DatabaseName = name;
        return builder.ToString();
    }

    /// <summary>The database a connection string names, reached past the registry for raw reads and writes.</summary>
    public IMongoDatabase DatabaseFor(string uri) => Client.GetDatabase(MongoUrl.Create(uri).DatabaseName);

    public async ValueTask DisposeAsync()
    {
        if (_client is not null)
        {
            if (_container is null)
            {
                foreach (var database in _databases)
                {
                    await _client.DropDatabaseAsync(database);
                }
            }
            _client.Dispose();
        }
        if (_container is not null)
        {
            await _container.DisposeAsync();
        }
    }
}
