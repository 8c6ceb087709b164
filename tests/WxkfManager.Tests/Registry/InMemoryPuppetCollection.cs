using System.Reflection;
using MongoDB.Bson;
using MongoDB.Bson.Serialization;
using MongoDB.Driver;
using WxkfManager.Registry;
using WxkfManager.Storage.Mongo;

namespace WxkfManager.Tests.Registry;

/// <summary>
/// The puppet collection as raw BSON documents in memory, for <see cref="MongoPuppetRegistry"/> without a server.
/// It answers the few calls the registry makes (find, find-one-and-update, create indexes) by the meaning of
/// the filters and updates it is sent (equality, $and/$or, $gte/$lte/$ne, $set/$setOnInsert/$currentDate),
/// so tests read what the registry wrote by field name rather than comparing the driver's rendering.
/// The integration tests run the same registry on a real MongoDB.
/// </summary>
public class InMemoryPuppetCollection : DispatchProxy
{
    private static readonly IBsonSerializer<PuppetDocument> Serializer = BsonSerializer.LookupSerializer<PuppetDocument>();
    private static readonly RenderArgs<PuppetDocument> Args = new(Serializer, BsonSerializer.SerializerRegistry);

    public List<BsonDocument> Documents { get; } = [];

    /// <summary>The indexes the registry asked for, as (keys, name, unique).</summary>
    public List<(BsonDocument Keys, string? Name, bool Unique)> CreatedIndexes { get; } = [];

    public static (IMongoCollection<PuppetDocument> Collection, InMemoryPuppetCollection Store) Create()
    {
        var collection = Create<IMongoCollection<PuppetDocument>, InMemoryPuppetCollection>();
        return (collection, (InMemoryPuppetCollection)(object)collection);
    }

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        ArgumentNullException.ThrowIfNull(targetMethod);
        args ??= [];
        return targetMethod.Name switch
        {
            "get_DocumentSerializer" => Serializer,
            "get_Settings" => new MongoCollectionSettings(),
            "get_Indexes" => IndexRecorder.For(this),
            "FindAsync" when args[0] is FilterDefinition<PuppetDocument> filter => Find(targetMethod, filter, args[1]),
            "AggregateAsync" when args[0] is not IClientSessionHandle => Aggregate(targetMethod, args[0]!),
            "FindOneAndUpdateAsync" when args[0] is FilterDefinition<PuppetDocument> filter =>
                FindOneAndUpdate(targetMethod, filter, (UpdateDefinition<PuppetDocument>)args[1]!, args[2]),
            _ => throw new NotSupportedException($"the in-memory collection does not answer {targetMethod.Name}"),
        };
    }

    /// <summary>How many finds the registry has sent: a read it can answer without one must not send one.</summary>
    public int Finds { get; private set; }

    /// <summary>
    /// A pipeline of $match stages and one $group by null that counts ({$sum: 1}) and adds up dates as milliseconds
    /// ({$sum: {$toLong: "$field"}}); as MongoDB, a group over no documents yields none.
    /// </summary>
    private object Aggregate(MethodInfo method, object pipeline)
    {
        var rendered = pipeline.GetType().GetMethod("Render", [typeof(RenderArgs<PuppetDocument>)])!.Invoke(pipeline, [Args])!;
        var stages = (IList<BsonDocument>)rendered.GetType().GetProperty("Documents")!.GetValue(rendered)!;
        var outputSerializer = (IBsonSerializer)rendered.GetType().GetProperty("OutputSerializer")!.GetValue(rendered)!;
        IEnumerable<BsonDocument> documents = Documents;
        foreach (var stage in stages)
        {
            documents = stage.GetElement(0) switch
            {
                { Name: "$match", Value: BsonDocument filter } => documents.Where(d => Matches(filter, d)).ToList(),
                { Name: "$group", Value: BsonDocument group } => Group(group, documents.ToList()),
                var other => throw new NotSupportedException($"the in-memory collection does not run the stage {other.Name}"),
            };
        }
        var items = documents.Select(d => BsonSerializer.Deserialize(d, outputSerializer.ValueType)).ToList();
        var result = method.GetGenericArguments()[0];
        var cursor = Activator.CreateInstance(typeof(ListCursor<>).MakeGenericType(result), items)!;
        return FromResult(typeof(IAsyncCursor<>).MakeGenericType(result), cursor);
    }

    private static List<BsonDocument> Group(BsonDocument group, List<BsonDocument> documents)
    {
        if (!group["_id"].IsBsonNull)
        {
            throw new NotSupportedException("the in-memory collection groups by null only");
        }
        if (documents.Count == 0)
        {
            return [];
        }
        var output = new BsonDocument("_id", BsonNull.Value);
        foreach (var field in group.Elements.Where(e => e.Name != "_id"))
        {
            output[field.Name] = field.Value["$sum"] switch
            {
                BsonInt32 { Value: 1 } => documents.Count,
                BsonDocument { ElementCount: 1 } toLong when toLong.GetElement(0).Name == "$toLong" =>
                    documents.Sum(d => d[toLong[0].AsString.TrimStart('$')].ToUniversalTime().Ticks / TimeSpan.TicksPerMillisecond
                        - DateTime.UnixEpoch.Ticks / TimeSpan.TicksPerMillisecond),
                var other => throw new NotSupportedException($"the in-memory collection does not add up {other}"),
            };
        }
        return [output];
    }

    private object Find(MethodInfo method, FilterDefinition<PuppetDocument> filter, object? options)
    {
        Finds++;
        var rendered = filter.Render(Args);
        IEnumerable<BsonDocument> found = Documents.Where(d => Matches(rendered, d));
        if (options?.GetType().GetProperty("Sort")?.GetValue(options) is SortDefinition<PuppetDocument> sort)
        {
            // Stable sorts applied from the last key to the first: the first key decides, the next break ties.
            foreach (var field in sort.Render(Args).Elements.Reverse())
            {
                found = field.Value.ToInt32() > 0
                    ? found.OrderBy(d => d.GetValue(field.Name, BsonNull.Value))
                    : found.OrderByDescending(d => d.GetValue(field.Name, BsonNull.Value));
            }
        }
        if (options?.GetType().GetProperty("Limit")?.GetValue(options) is int limit and > 0)
        {
            found = found.Take(limit);
        }
        var projection = method.GetGenericArguments()[0];
        var items = found.Select(d => BsonSerializer.Deserialize(d.DeepClone().AsBsonDocument, projection)).ToList();
        var cursor = Activator.CreateInstance(typeof(ListCursor<>).MakeGenericType(projection), items)!;
        return FromResult(typeof(IAsyncCursor<>).MakeGenericType(projection), cursor);
    }

    private object FindOneAndUpdate(MethodInfo method, FilterDefinition<PuppetDocument> filter, UpdateDefinition<PuppetDocument> update, object? options)
    {
        var renderedFilter = filter.Render(Args);
        var renderedUpdate = update.Render(Args).AsBsonDocument;
        var upsert = options is FindOneAndUpdateOptions<PuppetDocument> { IsUpsert: true };
        var returnAfter = options is FindOneAndUpdateOptions<PuppetDocument> { ReturnDocument: ReturnDocument.After };
        var projection = method.GetGenericArguments()[0];
        var document = Documents.FirstOrDefault(d => Matches(renderedFilter, d));
        BsonDocument? before = document?.DeepClone().AsBsonDocument;
        if (document is null)
        {
            if (!upsert)
            {
                return FromResult(projection, null);
            }
            document = new BsonDocument("_id", ObjectId.GenerateNewId());
            foreach (var (field, value) in Equalities(renderedFilter))
            {
                document[field] = value;
            }
            Apply(renderedUpdate, document, inserting: true);
            Documents.Add(document);
        }
        else
        {
            Apply(renderedUpdate, document, inserting: false);
        }
        var answer = returnAfter ? document : before;
        return FromResult(projection, answer is null ? null : BsonSerializer.Deserialize(answer.DeepClone().AsBsonDocument, projection));
    }

    private static object FromResult(Type type, object? value) =>
        typeof(Task).GetMethod(nameof(Task.FromResult))!.MakeGenericMethod(type).Invoke(null, [value])!;

    public static bool Matches(BsonDocument filter, BsonDocument document) => filter.Elements.All(element => element.Name switch
    {
        "$and" => element.Value.AsBsonArray.All(f => Matches(f.AsBsonDocument, document)),
        "$or" => element.Value.AsBsonArray.Any(f => Matches(f.AsBsonDocument, document)),
        _ => FieldMatches(document.GetValue(element.Name, BsonNull.Value), element.Value),
    });

    private static bool FieldMatches(BsonValue actual, BsonValue condition)
    {
        if (condition is BsonDocument operators && operators.ElementCount > 0 && operators.GetElement(0).Name.StartsWith('$'))
        {
            return operators.Elements.All(op => op.Name switch
            {
                "$eq" => Equal(actual, op.Value),
                "$ne" => !Equal(actual, op.Value),
                "$gte" => !actual.IsBsonNull && actual.CompareTo(op.Value) >= 0,
                "$lte" => !actual.IsBsonNull && actual.CompareTo(op.Value) <= 0,
                "$gt" => !actual.IsBsonNull && actual.CompareTo(op.Value) > 0,
                "$lt" => !actual.IsBsonNull && actual.CompareTo(op.Value) < 0,
                _ => throw new NotSupportedException($"the in-memory collection does not evaluate {op.Name}"),
            });
        }
        return Equal(actual, condition);
    }

    // As MongoDB: a null in a query matches a missing field too.
    private static bool Equal(BsonValue actual, BsonValue expected) => expected.IsBsonNull ? actual.IsBsonNull : actual.Equals(expected);

    private static IEnumerable<(string Field, BsonValue Value)> Equalities(BsonDocument filter) => filter.Elements.SelectMany(element =>
        element.Name == "$and" ? element.Value.AsBsonArray.SelectMany(f => Equalities(f.AsBsonDocument))
        : element.Name.StartsWith('$') || element.Value is BsonDocument { ElementCount: > 0 } d && d.GetElement(0).Name.StartsWith('$') ? []
        : [(element.Name, element.Value)]);

    private static void Apply(BsonDocument update, BsonDocument document, bool inserting)
    {
        foreach (var op in update.Elements)
        {
            foreach (var field in op.Value.AsBsonDocument.Elements)
            {
                switch (op.Name)
                {
                    case "$set":
                        document[field.Name] = field.Value;
                        break;
                    case "$setOnInsert" when inserting:
                        document[field.Name] = field.Value;
                        break;
                    case "$setOnInsert":
                        break;
                    case "$currentDate":
                        document[field.Name] = new BsonDateTime(DateTime.UtcNow);
                        break;
                    default:
                        throw new NotSupportedException($"the in-memory collection does not apply {op.Name}");
                }
            }
        }
    }

    private sealed class ListCursor<T>(List<object> items) : IAsyncCursor<T>
    {
        private bool _served;

        public IEnumerable<T> Current { get; private set; } = [];

        public bool MoveNext(CancellationToken cancellationToken = default)
        {
            if (_served)
            {
                Current = [];
                return false;
            }
            _served = true;
            Current = items.Cast<T>().ToList();
            return true;
        }

        public Task<bool> MoveNextAsync(CancellationToken cancellationToken = default) => Task.FromResult(MoveNext(cancellationToken));

        public void Dispose()
        {
        }
    }

    /// <summary>The collection's index manager: it records what the registry creates.</summary>
    public class IndexRecorder : DispatchProxy
    {
        private InMemoryPuppetCollection _owner = null!;

        public static IMongoIndexManager<PuppetDocument> For(InMemoryPuppetCollection owner)
        {
            var manager = Create<IMongoIndexManager<PuppetDocument>, IndexRecorder>();
            ((IndexRecorder)(object)manager)._owner = owner;
            return manager;
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            if (targetMethod?.Name != "CreateManyAsync" || args?[0] is not IEnumerable<CreateIndexModel<PuppetDocument>> models)
            {
                throw new NotSupportedException($"the in-memory index manager does not answer {targetMethod?.Name}");
            }
            var names = new List<string>();
            foreach (var model in models)
            {
                _owner.CreatedIndexes.Add((model.Keys.Render(Args), model.Options?.Name, model.Options?.Unique == true));
                names.Add(model.Options?.Name ?? "");
            }
            return Task.FromResult<IEnumerable<string>>(names);
        }
    }
}
