using MongoDB.Bson;

namespace WxkfManager.Tests.Infrastructure;

/// <summary>The evaluator the MongoDB rendering tests rely on reads queries as the server does, and refuses what it cannot read.</summary>
public sealed class BsonQueryTests
{
    private static readonly DateTime At = new(2024, 5, 6, 7, 8, 9, DateTimeKind.Utc);

    private static readonly BsonDocument Document = new()
    {
        { "_id", "d1" }, { "state", "Pending" }, { "attempts", 2 }, { "at", At }, { "gone", BsonNull.Value },
    };

    [Theory]
    [InlineData("""{ "state" : "Pending", "attempts" : 2 }""", true)]
    [InlineData("""{ "state" : "Dead" }""", false)]
    [InlineData("""{ "missing" : null, "gone" : null }""", true)]
    [InlineData("""{ "attempts" : { "$gte" : 2, "$lt" : 3 } }""", true)]
    [InlineData("""{ "attempts" : { "$gt" : 2 } }""", false)]
    [InlineData("""{ "attempts" : { "$lt" : "9" } }""", false)] // a number never compares with a string
    [InlineData("""{ "missing" : { "$lte" : 5 } }""", false)]
    [InlineData("""{ "state" : { "$in" : ["Dead", "Pending"] }, "_id" : { "$nin" : ["d2"] } }""", true)]
    [InlineData("""{ "missing" : { "$exists" : false }, "gone" : { "$exists" : true } }""", true)]
    [InlineData("""{ "state" : { "$type" : "string" }, "gone" : { "$type" : "string" } }""", false)]
    [InlineData("""{ "$or" : [{ "state" : "Dead" }, { "attempts" : 2 }] }""", true)]
    [InlineData("""{ "$and" : [{ "state" : "Pending" }, { "attempts" : 3 }] }""", false)]
    [InlineData("""{ "$expr" : { "$lte" : ["$at", "$$NOW"] } }""", true)]
    [InlineData("""{ "$expr" : { "$gt" : ["$at", "$$NOW"] } }""", false)]
    public void Matches_ReadsTheQueryAsTheServerDoes(string filter, bool matches)
    {
        Assert.Equal(matches, BsonQuery.Matches(BsonDocument.Parse(filter), Document, At));
    }

    [Fact]
    public void Apply_SetsAndUnsetsFields_AndEvaluatesPipelineExpressions()
    {
        var updated = BsonQuery.Apply(BsonDocument.Parse("""{ "$set" : { "state" : "Dead" }, "$unset" : { "gone" : 1 } }"""), Document);
        var piped = BsonQuery.Apply(
            BsonArray.Create(new[] { BsonDocument.Parse("""{ "$set" : { "until" : { "$add" : ["$$NOW", 1500] }, "claims" : { "$add" : [{ "$ifNull" : ["$claims", 0] }, 1] } } }""") }),
            Document,
            At);

        Assert.Equal(("Dead", false, 2), (updated["state"].AsString, updated.Contains("gone"), updated["attempts"].ToInt32()));
        Assert.Equal(At.AddMilliseconds(1500), piped["until"].ToUniversalTime());
        Assert.Equal(1, piped["claims"].ToInt32());
        Assert.Equal("Pending", Document["state"].AsString);
    }

    [Fact]
    public void Min_TakesTheLeastValue_LeavingOutNullAndMissingOnes()
    {
        var later = new BsonDateTime(At.AddMinutes(1));
        var piped = BsonQuery.Apply(
            BsonArray.Create(new[] { new BsonDocument("$set", new BsonDocument
            {
                { "earlier", new BsonDocument("$min", new BsonArray { later, "$at" }) },
                { "withNull", new BsonDocument("$min", new BsonArray { later, "$gone", "$missing" }) },
                { "none", new BsonDocument("$min", new BsonArray { "$gone", "$missing" }) },
            }) }),
            Document);

        Assert.Equal(At, piped["earlier"].ToUniversalTime());
        Assert.Equal(later, piped["withNull"]);
        Assert.True(piped["none"].IsBsonNull);
    }

    [Fact]
    public void MaxAndSubtract_AsTheServerReadsThem()
    {
        var later = new BsonDateTime(At.AddMinutes(1));
        var piped = BsonQuery.Apply(
            BsonArray.Create(new[] { new BsonDocument("$set", new BsonDocument
            {
                { "latest", new BsonDocument("$max", new BsonArray { later, "$at", "$gone", "$missing" }) },
                { "none", new BsonDocument("$max", new BsonArray { "$gone", "$missing" }) },
                { "fewer", new BsonDocument("$subtract", new BsonArray { "$attempts", 3 }) },
                { "ofNothing", new BsonDocument("$subtract", new BsonArray { "$missing", 1 }) },
            }) }),
            Document);

        Assert.Equal(later, piped["latest"]);
        Assert.True(piped["none"].IsBsonNull);
        Assert.Equal(new BsonInt32(-1), piped["fewer"]);
        Assert.True(piped["ofNothing"].IsBsonNull);
    }

    [Fact]
    public void AnOperatorItCannotRead_Throws_RatherThanMatching()
    {
        Assert.Throws<NotSupportedException>(() => BsonQuery.Matches(BsonDocument.Parse("""{ "state" : { "$regex" : "P" } }"""), Document));
        Assert.Throws<NotSupportedException>(() => BsonQuery.Matches(BsonDocument.Parse("""{ "$where" : "true" }"""), Document));
        Assert.Throws<NotSupportedException>(() => BsonQuery.Apply(BsonDocument.Parse("""{ "$inc" : { "attempts" : 1 } }"""), Document));
        Assert.Throws<InvalidOperationException>(() => BsonQuery.Matches(BsonDocument.Parse("""{ "$expr" : { "$lte" : ["$at", "$$NOW"] } }"""), Document));
    }
}
