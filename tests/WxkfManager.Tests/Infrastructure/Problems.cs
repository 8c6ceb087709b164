using System.Net;
using System.Net.Http.Json;

namespace WxkfManager.Tests.Infrastructure;

/// <summary>Refusals come as problem+json whose detail gives the reason.</summary>
public static class Problems
{
    public static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string reasonFragment)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<Microsoft.AspNetCore.Mvc.ProblemDetails>(Ct);
        Assert.NotNull(problem);
        Assert.Contains(reasonFragment, problem.Detail);
    }
}
