using MongoDB.Bson;

namespace WxkfManager.Tests.Infrastructure;

/// <summary>
/// A small evaluator of the part of MongoDB's query and update language the stores use, so a test states what a
/// rendered filter matches and what a rendered update leaves behind, by field names and values, whatever shape
/// the driver renders them in. An operator it does not know throws: a test never passes on what it cannot read.
/// </summary>
public static class BsonQuery
{
    /// <summary>Whether <paramref name="document"/> matches <paramref name="filter"/>; <paramref name="serverNow"/> is <c>$$NOW</c>.</summary>
    public static bool Matches(BsonDocument filter, BsonDocument document, DateTime? serverNow = null) =>
        filter.All(element => element.Name switch
        {
            "$and" => element.Value.AsBsonArray.All(f => Matches(f.AsBsonDocument, document, serverNow)),
            "$or" => element.Value.AsBsonArray.Any(f => Matches(f.AsBsonDocument, document, serverNow)),
            "$nor" => !element.Value.AsBsonArray.Any(f => Matches(f.AsBsonDocument, document, serverNow)),
            "$expr" => IsTrue(Evaluate(element.Value, document, serverNow)),
            var name when name.StartsWith('$') => throw new NotSupportedException($"query operator {name}"),
            var name => FieldMatches(document.GetValue(name, null), element.Value),
        });

    /// <summary>The document after <paramref name="update"/> (an update document or a pipeline), as the server would leave it.</summary>
    public static BsonDocument Apply(BsonValue update, BsonDocument document, DateTime? serverNow = null)
    {
        var result = document.DeepClone().AsBsonDocument;
        IEnumerable<BsonDocument> stages = update is BsonArray pipeline ? pipeline.Select(s => s.AsBsonDocument) : [update.AsBsonDocument];
        foreach (var stage in stages)
        {
            foreach (var (op, fields) in stage.Select(e => (e.Name, e.Value)))
            {
                switch (op)
                {
                    case "$set" or "$addFields":
                        var before = result.DeepClone().AsBsonDocument;
                        foreach (var field in fields.AsBsonDocument)
                        {
                            // In a pipeline a value is an expression over the document as the stage found it.
                            result[field.Name] = update is BsonArray ? Evaluate(field.Value, before, serverNow) : field.Value;
                        }
                        break;
                    case "$unset":
                        IEnumerable<string> names = fields switch
                        {
                            BsonDocument fieldNames => fieldNames.Names,
                            BsonArray array => array.Select(n => n.AsString),
                            _ => [fields.AsString],
                        };
                        foreach (var name in names)
                        {
                            result.Remove(name);
                        }
                        break;
                    default:
                        throw new NotSupportedException($"update operator {op}");
                }
            }
        }
        return result;
    }

    private static bool FieldMatches(BsonValue? value, BsonValue condition)
    {
        if (condition is BsonRegularExpression)
        {
            throw new NotSupportedException("regular expressions");
        }
        if (condition is not BsonDocument operators || operators.ElementCount == 0 || !operators.GetElement(0).Name.StartsWith('$'))
        {
            return AreEqual(value, condition);
        }
        return operators.All(o => o.Name switch
        {
            "$eq" => AreEqual(value, o.Value),
            "$ne" => !AreEqual(value, o.Value),
            "$lt" => Compare(value, o.Value) is < 0,
            "$lte" => Compare(value, o.Value) is <= 0,
            "$gt" => Compare(value, o.Value) is > 0,
            "$gte" => Compare(value, o.Value) is >= 0,
            "$in" => o.Value.AsBsonArray.Any(v => AreEqual(value, v)),
            "$nin" => !o.Value.AsBsonArray.Any(v => AreEqual(value, v)),
            "$exists" => (value is not null) == o.Value.ToBoolean(),
            "$type" => value is not null && TypeName(value) == o.Value.AsString,
            "$not" => !FieldMatches(value, o.Value),
            _ => throw new NotSupportedException($"field operator {o.Name}"),
        });
    }

    /// <summary>Equality as a query reads it: null also matches a missing field.</summary>
    private static bool AreEqual(BsonValue? value, BsonValue expected) =>
        expected.IsBsonNull ? value is null || value.IsBsonNull : value is not null && Compare(value, expected) == 0;

    /// <summary>Query comparison: values of different kinds never compare (MongoDB's type bracketing), so null.</summary>
    private static int? Compare(BsonValue? value, BsonValue other) =>
        value is not null && Kind(value) == Kind(other) && Kind(value) is not null ? value.CompareTo(other) : null;

    private static string? Kind(BsonValue value) => value switch
    {
        { IsNumeric: true } => "number",
        { IsString: true } => "string",
        { IsValidDateTime: true } => "date",
        { IsBoolean: true } => "bool",
        _ => null,
    };

    private static string TypeName(BsonValue value) => value.BsonType switch
    {
        BsonType.String => "string",
        BsonType.DateTime => "date",
        BsonType.Null => "null",
        BsonType.Int32 => "int",
        BsonType.Int64 => "long",
        var other => other.ToString(),
    };

    private static BsonValue Evaluate(BsonValue expression, BsonDocument document, DateTime? serverNow)
    {
        switch (expression)
        {
            case BsonString { Value: "$$NOW" }:
                return new BsonDateTime(serverNow ?? throw new InvalidOperationException("The expression reads $$NOW: give the server's time."));
            case BsonString { Value: var path } when path.StartsWith('$'):
                return document.GetValue(path[1..], BsonNull.Value);
            case BsonDocument { ElementCount: 1 } call when call.GetElement(0).Name.StartsWith('$'):
                var op = call.GetElement(0).Name;
                List<BsonValue> args = call[0] is BsonArray array ? array.Select(a => Evaluate(a, document, serverNow)).ToList() : [Evaluate(call[0], document, serverNow)];
                return op switch
                {
                    // Aggregation compares across kinds in BSON order (null and missing lowest).
                    "$lt" => args[0].CompareTo(args[1]) < 0,
                    "$lte" => args[0].CompareTo(args[1]) <= 0,
                    "$gt" => args[0].CompareTo(args[1]) > 0,
                    "$gte" => args[0].CompareTo(args[1]) >= 0,
                    "$eq" => args[0].CompareTo(args[1]) == 0,
                    "$and" => args.All(IsTrue),
                    "$or" => args.Any(IsTrue),
                    "$not" => !IsTrue(args[0]),
                    "$ifNull" => args.FirstOrDefault(a => !a.IsBsonNull) ?? BsonNull.Value,
                    "$add" => Add(args),
                    // As the server's: null and missing values are left out, and none left is null.
                    "$min" => args.Where(a => !a.IsBsonNull).DefaultIfEmpty(BsonNull.Value).Min()!,
                    "$max" => args.Where(a => !a.IsBsonNull).DefaultIfEmpty(BsonNull.Value).Max()!,
                    "$subtract" => Subtract(args[0], args[1]),
                    _ => throw new NotSupportedException($"expression operator {op}"),
                };
            default:
                return expression;
        }
    }

    private static BsonValue Add(IReadOnlyList<BsonValue> args)
    {
        if (args.Any(a => a.IsBsonNull))
        {
            return BsonNull.Value;
        }
        var milliseconds = args.Where(a => a.IsNumeric).Sum(a => a.ToInt64());
        return args.SingleOrDefault(a => a.IsValidDateTime) is { } date
            ? new BsonDateTime(date.ToUniversalTime().AddMilliseconds(milliseconds))
            : new BsonInt64(milliseconds);
    }

    /// <summary>Numbers only (the stores subtract no dates): null if either is null, and two ints give an int, as the server's.</summary>
    private static BsonValue Subtract(BsonValue left, BsonValue right) => (left, right) switch
    {
        ({ IsBsonNull: true }, _) or (_, { IsBsonNull: true }) => BsonNull.Value,
        (BsonInt32 a, BsonInt32 b) => new BsonInt32(a.Value - b.Value),
        ({ IsNumeric: true }, { IsNumeric: true }) when left.IsDouble || right.IsDouble => new BsonDouble(left.ToDouble() - right.ToDouble()),
        ({ IsNumeric: true }, { IsNumeric: true }) => new BsonInt64(left.ToInt64() - right.ToInt64()),
        _ => throw new NotSupportedException($"$subtract of {left.BsonType} and {right.BsonType}"),
    };

    private static bool IsTrue(BsonValue value) => value switch
    {
        BsonBoolean b => b.Value,
        { IsBsonNull: true } => false,
        { IsNumeric: true } => value.ToDouble() != 0,
        _ => true,
    };
}
