using Microsoft.Extensions.Options;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using WxkfManager.Delivery;
using WxkfManager.Metrics;
using WxkfManager.Settings;
using WxkfManager.Registry;
using WxkfManager.Storage.Sqlite;

namespace WxkfManager.Tests.Delivery;

/// <summary>What is checked between a claim and a send, and the lease that must cover an attempt: pure functions.</summary>
public sealed class DeliveryGateTests
{
    private static readonly DateTime T0 = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
    private static readonly DeliveryOptions Options = new() { PoisonClaimLimit = 3, MaxAge = TimeSpan.FromMinutes(10) };

    private static DeliveryRecord Claimed(int claims, DateTime? expiresAt = null) =>
        DeliveryStoreContract.NewRecord() with { Claims = claims, ExpiresAt = expiresAt ?? T0.AddMinutes(10) };

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void AClaimWithinThePoisonLimit_IsSent(int claims)
    {
        Assert.Null(DeliveryGate.DeadReason(Claimed(claims), T0.AddMinutes(1), Options));
    }

    [Fact]
    public void AClaimPastThePoisonLimit_IsDeadLettered_SayingWhy()
    {
        var reason = DeliveryGate.DeadReason(Claimed(4), T0.AddMinutes(1), Options);

        Assert.StartsWith("poison: claimed 3 times without an attempt being recorded", reason);
    }

    [Fact]
    public void AnEventTriedBefore_PastItsAgeLimit_GivesUpInTheRetryPolicysWords()
    {
        var record = Claimed(1) with { Attempts = 3, LastError = "puppet answered HTTP 500" };

        Assert.Equal("gave up after 3 attempts over 600 s: puppet answered HTTP 500", DeliveryGate.DeadReason(record, record.ExpiresAt, Options));
    }

    [Fact]
    public void AnEventPastItsAgeLimit_IsDeadLetteredBeforeDelivery_WithItsLastError()
    {
        var record = Claimed(1) with { LastError = "HTTP 503" };

        Assert.Null(DeliveryGate.DeadReason(record, record.ExpiresAt.AddMilliseconds(-1), Options));
        var reason = DeliveryGate.DeadReason(record, record.ExpiresAt, Options);

        Assert.StartsWith("expired before delivery: 600 s after receipt, past the age limit of 600 s", reason);
        Assert.EndsWith("last error: HTTP 503", reason);
    }

    [Fact]
    public void TheWorstCaseAttempt_IsOneTryTimingOut_TheQueueDecidesAboutTheNext()
    {
        Assert.Equal(TimeSpan.FromSeconds(5), DeliveryGate.WorstCaseAttempt(new DeliveryOptions()));
        Assert.Equal(TimeSpan.FromSeconds(1), DeliveryGate.WorstCaseAttempt(new DeliveryOptions { AttemptTimeout = TimeSpan.FromSeconds(1) }));
    }

    [Fact]
    public void ALeaseShorterThanTheWorstCaseAttempt_IsRefused_WithTheNumbers()
    {
        var validation = new DeliveryLeaseValidation();

        Assert.True(validation.Validate(null, new DeliveryOptions()).Succeeded);
        var refused = validation.Validate(null, new DeliveryOptions { LeaseDuration = TimeSpan.FromSeconds(5) });

        Assert.True(refused.Failed);
        Assert.Contains("LeaseDuration (5.0 s) must be longer than the worst-case attempt (Delivery:AttemptTimeout, 5.0 s", refused.FailureMessage);
    }

    [Fact]
    public async Task TheWorker_DeadLettersAPoisonEvent_AndAnExpiredOne_WithoutSendingThem()
    {
        var directory = Path.Combine(Path.GetTempPath(), "wxkf-gate-" + Guid.NewGuid().ToString("N"));
        var database = new SqliteDatabase(Microsoft.Extensions.Options.Options.Create(new StorageOptions { DataDirectory = directory }));
        var registry = new SqlitePuppetRegistry(database);
        await registry.InitializeAsync(Ct);
        await using var store = new SqliteDeliveryStore(database);
        await store.InitializeAsync(Ct);
        var puppet = await registry.UpsertAsync(Registrations.New(), Ct);
        var puppets = new PuppetDirectory(registry, TimeProvider.System, NullLogger<PuppetDirectory>.Instance);
        await puppets.RefreshAsync(Ct);
        var now = DateTime.UtcNow;
        var poison = DeliveryStoreContract.NewRecord(now.AddSeconds(-1), kfId: puppet.KfId) with { CorpId = puppet.CorpId, ReceivedAt = now, ExpiresAt = now.AddMinutes(10) };
        var expired = DeliveryStoreContract.NewRecord(now.AddSeconds(-1), kfId: puppet.KfId) with { CorpId = puppet.CorpId, ReceivedAt = now.AddMinutes(-11), ExpiresAt = now.AddMinutes(-1) };
        await store.TryEnqueueAsync(poison, Ct);
        // A worker claimed the poison event and died with it (its lease ran out); the expired one waits unclaimed.
        var crashed = await store.ClaimDueAsync("crashed-worker", 1, now, TimeSpan.FromMilliseconds(50), Ct);
        Assert.Equal(poison.Id, Assert.Single(crashed).Id);
        await store.TryEnqueueAsync(expired, Ct);
        await Task.Delay(100, Ct);
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var options = Microsoft.Extensions.Options.Options.Create(new DeliveryOptions { PoisonClaimLimit = 1, PollInterval = TimeSpan.FromMilliseconds(50) });
        var tracker = new DeliveryTracker(options);
        var signal = new DeliverySignal();
        var depths = new QueueDepths();
        var dispatcher = new DeliveryDispatcher(tracker, signal, TimeProvider.System, options, NullLogger<DeliveryDispatcher>.Instance);
        var attempt = new DeliveryAttempt(store, puppets, tracker, signal, depths, dispatcher, services.GetRequiredService<IServiceScopeFactory>(),
            TimeProvider.System, new ManagerMetrics(services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>()), options, NullLogger<DeliveryAttempt>.Instance);
        using var worker = new DeliveryWorker(store, attempt, dispatcher, depths, signal, tracker, TimeProvider.System, options, NullLogger<DeliveryWorker>.Instance);

        await worker.StartAsync(Ct);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while ((await store.ListDeadLettersAsync(10, Ct)).Count < 2 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50, Ct);
        }
        await worker.StopAsync(Ct);

        var dead = (await store.ListDeadLettersAsync(10, Ct)).ToDictionary(r => r.Id);
        Assert.StartsWith("poison: claimed 1 times", dead[poison.Id].LastError);
        Assert.StartsWith("expired before delivery", dead[expired.Id].LastError);
        Assert.Equal(0, dead[expired.Id].Attempts);
        // The writer's threads (commits, checkpoints) stop first, or one may write a file while the directory goes.
        await store.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(directory, recursive: true);
    }
}
