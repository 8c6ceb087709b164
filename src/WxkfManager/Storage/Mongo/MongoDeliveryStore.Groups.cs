using MongoDB.Driver;
using WxkfManager.Delivery;

namespace WxkfManager.Storage.Mongo;

/// <summary>
/// The grouped writes: concurrent enqueues become one unordered InsertMany, concurrent completions one unordered
/// BulkWrite (see <see cref="MongoBatchWriter{TItem}"/>); each caller still gets its own answer.
/// </summary>
public sealed partial class MongoDeliveryStore
{
    private static readonly InsertManyOptions UnorderedInsert = new() { IsOrdered = false };
    private static readonly BulkWriteOptions UnorderedBulkWrite = new() { IsOrdered = false };

    /// <summary>A finishing write of a leased record: applies only while the lease named is still the record's.</summary>
    internal sealed record LeasedUpdate(string Id, string LeaseToken, UpdateDefinition<DeliveryDocument> Update);

    internal enum InsertOutcome
    {
        Inserted,

        /// <summary>A record with the same signature or token key exists (a resend).</summary>
        Duplicate,

        /// <summary>Refused by the server for another reason; that caller gets the exception.</summary>
        Failed,
    }

    /// <summary>What the store inserts for each record: the record as given (a lease too, when the accepting replica holds one).</summary>
    internal DeliveryDocument DocumentFor(DeliveryRecord record)
    {
        var document = DeliveryDocument.FromRecord(record);
        // Dead on arrival (no such puppet): kept as long as any dead letter.
        document.PurgeAt = record.CompletedAt is { } completed ? PurgeAt(record.State, completed) : null;
        return document;
    }

    private async Task<ItemResult<EnqueueOutcome>[]> InsertGroupAsync(IReadOnlyList<DeliveryRecord> records)
    {
        var outcomes = new InsertOutcome[records.Count];
        MongoBulkWriteException? refused = null;
        try
        {
            await _collection.InsertManyAsync(records.Select(DocumentFor).ToList(), UnorderedInsert, CancellationToken.None);
        }
        // A write concern error leaves the group's durability unknown: it fails every caller, as any other exception does.
        catch (MongoBulkWriteException exception) when (exception.WriteConcernError is null)
        {
            refused = exception;
            outcomes = InsertOutcomes(records.Count, exception.WriteErrors.Select(e => (e.Index, e.Category)));
        }
        var results = new ItemResult<EnqueueOutcome>[records.Count];
        for (var i = 0; i < records.Count; i++)
        {
            results[i] = outcomes[i] switch
            {
                InsertOutcome.Inserted => ItemResult<EnqueueOutcome>.Of(EnqueueOutcome.Queued),
                InsertOutcome.Duplicate => await ReviveDeadCopyAsync(records[i]),
                _ => ItemResult<EnqueueOutcome>.Failed(refused!),
            };
        }
        return results;
    }

    /// <summary>Each item's outcome from the write errors of an unordered insert (an item without an error was inserted).</summary>
    internal static InsertOutcome[] InsertOutcomes(int count, IEnumerable<(int Index, ServerErrorCategory Category)> writeErrors)
    {
        var outcomes = new InsertOutcome[count];
        foreach (var (index, category) in writeErrors)
        {
            outcomes[index] = category == ServerErrorCategory.DuplicateKey ? InsertOutcome.Duplicate : InsertOutcome.Failed;
        }
        return outcomes;
    }

    /// <summary>A resend is not queued again, unless the earlier copy was given up on: that one is queued again instead.</summary>
    private async Task<ItemResult<EnqueueOutcome>> ReviveDeadCopyAsync(DeliveryRecord record)
    {
        try
        {
            var revived = await _collection.UpdateOneAsync(Filters.DeadCopyOf(record), Updates.Revive(record), cancellationToken: CancellationToken.None);
            if (revived.ModifiedCount > 0)
            {
                return ItemResult<EnqueueOutcome>.Of(EnqueueOutcome.Requeued);
            }
            if (_logger.IsEnabled(LogLevel.Debug))
            {
                _logger.LogDebug("Delivery {DeliveryId} for {OpenKfId} repeats a queued one; not queued again", record.Id, record.KfId);
            }
            return ItemResult<EnqueueOutcome>.Of(EnqueueOutcome.Duplicate);
        }
        catch (Exception exception)
        {
            return ItemResult<EnqueueOutcome>.Failed(exception);
        }
    }

    /// <summary>One UpdateOne per completion, each filtered on its lease, each recording the lease it finished.</summary>
    internal static List<UpdateOneModel<DeliveryDocument>> CompletionModels(IReadOnlyList<LeasedUpdate> completions) =>
        completions.Select(c => new UpdateOneModel<DeliveryDocument>(
            Filters.LeasedBy(c.Id, c.LeaseToken), Updates.ReleasingLease(c.Update, c.LeaseToken))).ToList();

    internal async Task<ItemResult[]> CompleteGroupAsync(IReadOnlyList<LeasedUpdate> completions)
    {
        MongoBulkWriteException? refused = null;
        var failed = new HashSet<int>();
        try
        {
            var written = await _collection.BulkWriteAsync(CompletionModels(completions), UnorderedBulkWrite, CancellationToken.None);
            if (written.MatchedCount == completions.Count)
            {
                return Enumerable.Repeat(ItemResult.Of(true), completions.Count).ToArray();
            }
        }
        catch (MongoBulkWriteException exception) when (exception.WriteConcernError is null)
        {
            refused = exception;
            failed.UnionWith(exception.WriteErrors.Select(e => e.Index));
        }
        // Some leases were taken over (or an update was refused): the totals do not say whose, the documents do.
        var finished = await _collection.Find(Filters.AnyOf(completions.Select(c => c.Id).Distinct()))
            .Project<DeliveryDocument>(Projections.FinishedLeaseOnly)
            .ToListAsync(CancellationToken.None);
        var applied = Applied(completions, finished.ToDictionary(d => d.Id, d => d.FinishedLease, StringComparer.Ordinal));
        if (_logger.IsEnabled(LogLevel.Debug))
        {
            _logger.LogDebug("{Lost} of {Completions} completions found their lease taken over", applied.Count(a => !a), completions.Count);
        }
        return applied.Select((done, i) => failed.Contains(i) ? ItemResult.Failed(refused!) : ItemResult.Of(done)).ToArray();
    }

    /// <summary>
    /// Which completions applied, from the lease each record last finished: lease tokens are unique per claim and only
    /// a completion naming a record's current lease can write it, so a match is that completion. Should a group
    /// hold the same lease twice (a caller finishing one claim twice), only one of them counts.
    /// </summary>
    internal static bool[] Applied(IReadOnlyList<LeasedUpdate> completions, IReadOnlyDictionary<string, string?> finishedLeaseById)
    {
        var counted = new HashSet<string>(StringComparer.Ordinal);
        return completions
            .Select(c => finishedLeaseById.TryGetValue(c.Id, out var finished) && finished == c.LeaseToken && counted.Add(c.LeaseToken))
            .ToArray();
    }
}
