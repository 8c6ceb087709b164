namespace WxkfManager.Tests.Apis;

/// <summary>
/// Walks the served OpenAPI document with the rules a linter (redocly's recommended set) applies: unique
/// operation ids, a security scheme the management endpoints use, refusals documented, a schema for every
/// body, required query parameters marked, every $ref resolvable.
/// </summary>
public sealed class OpenApiDocumentTests(ManagerApp app) : IClassFixture<ManagerApp>
{
    private static readonly string[] Methods = ["get", "post", "put", "delete", "patch"];

    private async Task<JsonElement> DocumentAsync() => await app.Client.GetFromJsonAsync<JsonElement>("/swagger/v1/swagger.json", Ct);

    private static IEnumerable<(string Path, string Method, JsonElement Operation)> Operations(JsonElement document) =>
        document.GetProperty("paths").EnumerateObject().SelectMany(path => path.Value.EnumerateObject()
            .Where(op => Methods.Contains(op.Name)).Select(op => (path.Name, op.Name, op.Value)));

    [Fact]
    public async Task OperationIds_AreUnique()
    {
        var ids = Operations(await DocumentAsync()).Select(o => o.Operation.GetProperty("operationId").GetString()).ToList();

        Assert.All(ids, id => Assert.False(string.IsNullOrEmpty(id)));
        Assert.Equal(ids.Count, ids.Distinct().Count());
    }

    [Fact]
    public async Task ManagementEndpoints_RequireTheDeclaredBearerScheme_AndDocument401()
    {
        var document = await DocumentAsync();
        var scheme = document.GetProperty("components").GetProperty("securitySchemes").GetProperty("managementKey");
        Assert.Equal("http", scheme.GetProperty("type").GetString());
        Assert.Equal("bearer", scheme.GetProperty("scheme").GetString());

        var managed = Operations(document).Where(o => o.Path.StartsWith("/puppetWxkfManager", StringComparison.Ordinal)
            || o.Path.StartsWith("/operator", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(managed);
        Assert.All(managed, o =>
        {
            Assert.True(o.Operation.TryGetProperty("security", out var security), $"{o.Method} {o.Path} has no security");
            Assert.Contains(security.EnumerateArray(), requirement => requirement.TryGetProperty("managementKey", out _));
            Assert.True(o.Operation.GetProperty("responses").TryGetProperty("401", out _), $"{o.Method} {o.Path} does not document 401");
        });
        Assert.All(Operations(document).Where(o => o.Path.StartsWith("/callback", StringComparison.Ordinal)),
            o => Assert.False(o.Operation.TryGetProperty("security", out _), $"{o.Method} {o.Path}: WeCom cannot send a key"));
    }

    [Fact]
    public async Task EveryOperation_ButLiveness_DocumentsARefusal()
    {
        var document = await DocumentAsync();

        Assert.All(Operations(document).Where(o => o.Path != "/health"), o =>
        {
            var statuses = o.Operation.GetProperty("responses").EnumerateObject().Select(r => r.Name).ToList();
            Assert.True(statuses.Any(s => s[0] is '4' or '5'), $"{o.Method} {o.Path} documents only {string.Join(",", statuses)}");
        });
    }

    [Fact]
    public async Task EveryBody_HasASchema()
    {
        var document = await DocumentAsync();

        foreach (var (path, method, operation) in Operations(document))
        {
            var bodies = new List<(string Where, JsonElement Content)>();
            if (operation.TryGetProperty("requestBody", out var request))
            {
                Assert.NotEqual("get", method);
                bodies.Add(("request", request.GetProperty("content")));
            }
            foreach (var response in operation.GetProperty("responses").EnumerateObject())
            {
                if (response.Value.TryGetProperty("content", out var content))
                {
                    bodies.Add((response.Name, content));
                }
            }
            foreach (var (where, content) in bodies)
            {
                foreach (var media in content.EnumerateObject())
                {
                    Assert.True(media.Value.TryGetProperty("schema", out _), $"{method} {path} {where} {media.Name} has no schema");
                }
            }
        }
    }

    [Theory]
    [InlineData("/callback/{corpId}", "get", new[] { "msg_signature", "timestamp", "nonce", "echostr" })]
    [InlineData("/callback/{corpId}", "post", new[] { "msg_signature", "timestamp", "nonce" })]
    [InlineData("/puppetWxkfManager/getToken", "get", new[] { "corpid", "corpsecret" })]
    public async Task RequiredQueryParameters_AreMarkedRequired(string path, string method, string[] required)
    {
        var operation = (await DocumentAsync()).GetProperty("paths").GetProperty(path).GetProperty(method);

        var marked = operation.GetProperty("parameters").EnumerateArray()
            .Where(p => p.GetProperty("in").GetString() == "query" && p.TryGetProperty("required", out var r) && r.GetBoolean())
            .Select(p => p.GetProperty("name").GetString()).ToHashSet();
        Assert.Superset(required.ToHashSet(), marked!);
    }

    [Fact]
    public async Task EveryReference_Resolves()
    {
        var document = await DocumentAsync();
        var text = document.GetRawText();

        foreach (var reference in System.Text.RegularExpressions.Regex.Matches(text, "\"\\$ref\":\\s*\"#/([^\"]+)\"").Select(m => m.Groups[1].Value).Distinct())
        {
            var node = document;
            foreach (var segment in reference.Split('/'))
            {
                Assert.True(node.TryGetProperty(segment, out node), $"$ref #/{reference} does not resolve");
            }
        }
    }

    [Fact]
    public async Task Proxy_TakesThePathAsSwaggerUiSendsIt_WithSlashesEncoded()
    {
        using var response = await app.Client.GetAsync("/puppetWxkfManager/wxkfRequestProxy/kf%2Faccount%2Flist?access_token=t", Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("kf/account/list", (await response.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("path").GetString());
    }

    [Theory]
    [InlineData("/puppetWxkfManager/wxkfRequestProxy/kf%2F..%2F..%2Fgettoken")]
    [InlineData("/puppetWxkfManager/wxkfRequestProxy/kf%2F%2e%2e%2Fgettoken")]
    public async Task Proxy_WithEncodedDotSegments_IsBadRequest(string target)
    {
        var (status, answer) = await RawHttp.GetAsync(app.Client.BaseAddress!, target, Ct);

        Assert.Equal(400, status);
        Assert.Contains("..", answer);
    }

    [Theory]
    [InlineData("/puppetWxkfManager/wxkfRequestProxy/kf/../../../etc/passwd")]
    [InlineData("/puppetWxkfManager/wxkfRequestProxy/kf/%2e%2e/%2e%2e/%2e%2e/etc/passwd")]
    public async Task Proxy_WithDotSegmentsLeavingTheProxy_FindsNoRoute_AsReadmeSays(string target)
    {
        // The server resolves dot segments, literal or %2E-encoded, before routing (RFC 3986): this is /etc/passwd.
        var (status, _) = await RawHttp.GetAsync(app.Client.BaseAddress!, target, Ct);

        Assert.Equal(404, status);
        Assert.Contains("`..` segments (literal or `%2E%2E`) are resolved by the server before routing", RepositoryFiles.Read("README.md"));
    }
}
