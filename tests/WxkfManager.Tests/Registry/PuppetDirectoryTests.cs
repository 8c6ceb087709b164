using Microsoft.Extensions.Logging.Abstractions;
using WxkfManager.Registry;
using WxkfManager.Security;

namespace WxkfManager.Tests.Registry;

/// <summary>The directory over a fake store: bad registrations are skipped, changes apply per entry.</summary>
public sealed class PuppetDirectoryTests
{
    private static PuppetDirectory DirectoryOver(IPuppetRegistry registry) =>
        new(registry, TimeProvider.System, NullLogger<PuppetDirectory>.Instance);

    [Fact]
    public async Task Refresh_SkipsRegistrationsThatCannotLoad_AndServesTheRest()
    {
        var store = new FakeRegistry();
        var good = store.Add(Registrations.New());
        var badKey = store.Add(Registrations.New(good.CorpId) with { EncodingAesKey = "not-a-key" });
        store.Faults.Add(new UnloadableRegistration("wk-null-token", "token", "is missing or empty"));
        var directory = DirectoryOver(store);

        await directory.RefreshAsync(Ct);

        Assert.NotNull(directory.Find(good.KfId));
        Assert.Single(directory.CredentialsFor(good.CorpId));
        Assert.Null(directory.Find(badKey.KfId));
        Assert.Equal(
            [new UnloadableRegistration(badKey.KfId, "encodingAESKey", "is not a 43-character Base64 EncodingAESKey"),
             new UnloadableRegistration("wk-null-token", "token", "is missing or empty")],
            directory.Unloadable.OrderBy(u => u.Field));
        Assert.DoesNotContain(directory.Unloadable, u => u.Reason.Contains("not-a-key") || u.Field.Contains("not-a-key"));
    }

    [Fact]
    public async Task ASecretEncryptedWithAnotherKey_IsSkipped_NamingTheField()
    {
        var store = new FakeRegistry();
        var written = new EncryptingPuppetRegistry(store, new SecretProtector(Convert.ToBase64String(new byte[32])), NullLogger<EncryptingPuppetRegistry>.Instance);
        var other = Registrations.New();
        await written.UpsertAsync(other, Ct);
        var plain = store.Add(Registrations.New());
        var readWithAnotherKey = new EncryptingPuppetRegistry(store, new SecretProtector(Convert.ToBase64String(Enumerable.Repeat((byte)7, 32).ToArray())), NullLogger<EncryptingPuppetRegistry>.Instance);
        var directory = DirectoryOver(readWithAnotherKey);

        await directory.RefreshAsync(Ct);

        Assert.NotNull(directory.Find(plain.KfId));
        var skipped = Assert.Single(directory.Unloadable);
        Assert.Equal(other.KfId, skipped.KfId);
        Assert.Equal("corpSecret", skipped.Field);
        Assert.Contains("SECRETS_ENCRYPTION_KEY", skipped.Reason);
        Assert.Single(await readWithAnotherKey.ListAsync(Ct));
    }

    [Fact]
    public async Task CatchUp_AsksForChangesSinceTheNewestMarkerLessTheOverlap_AndAppliesThem()
    {
        var store = new FakeRegistry();
        var first = store.Add(Registrations.New());
        var directory = DirectoryOver(store);
        await directory.RefreshAsync(Ct);
        var marker = store.Marker;

        var moved = store.Add(first with { Endpoint = "http://10.0.0.9:1" });
        var added = store.Add(Registrations.New(first.CorpId));
        await directory.CatchUpAsync(Ct);

        Assert.Equal(marker - PuppetDirectory.ChangeOverlap, store.LastSince);
        Assert.Equal(moved.Endpoint, directory.Find(first.KfId)!.Registration.Endpoint);
        Assert.NotNull(directory.Find(added.KfId));
        Assert.Equal(2, directory.CredentialsFor(first.CorpId).Count);
    }

    [Fact]
    public async Task ARegistrationFixedLater_LeavesTheUnloadableList_AndOneGoneFromTheStore_LeavesTheDirectory()
    {
        var store = new FakeRegistry();
        var broken = store.Add(Registrations.New() with { EncodingAesKey = "short" });
        var leaving = store.Add(Registrations.New());
        var directory = DirectoryOver(store);
        await directory.RefreshAsync(Ct);

        store.Add(broken with { EncodingAesKey = Crypto.EncodingAesKey.Generate() });
        store.Remove(leaving.KfId);
        await directory.CatchUpAsync(Ct);
        Assert.Empty(directory.Unloadable);
        Assert.NotNull(directory.Find(broken.KfId));
        Assert.NotNull(directory.Find(leaving.KfId)); // a catch-up sees changes, not deletions

        await directory.RefreshAsync(Ct);
        Assert.Null(directory.Find(leaving.KfId));
        Assert.Empty(directory.CredentialsFor(leaving.CorpId));
    }

    [Fact]
    public async Task Confirm_ReadsThePuppetFromTheStore_WhenThisReplicaThinksItOffline()
    {
        var store = new FakeRegistry();
        var registration = store.Add(Registrations.New() with { Online = false });
        var directory = DirectoryOver(store);
        await directory.RefreshAsync(Ct);

        store.Add(registration with { Online = true });
        var confirmed = await directory.ConfirmAsync(registration.CorpId, registration.KfId, Ct);

        Assert.True(confirmed!.Online);
        Assert.True(directory.Find(registration.KfId)!.Registration.Online);
        Assert.Null(await directory.ConfirmAsync("ww-other-corp", registration.KfId, Ct));
    }

    [Fact]
    public async Task Confirm_WhenTheStoreIsDown_GoesByThisReplicasView()
    {
        var store = new FakeRegistry();
        var registration = store.Add(Registrations.New() with { Online = false });
        var directory = DirectoryOver(store);
        await directory.RefreshAsync(Ct);
        store.Down = true;

        var confirmed = await directory.ConfirmAsync(registration.CorpId, registration.KfId, Ct);

        Assert.False(confirmed!.Online);
    }

    [Fact]
    public async Task AFleetOf100000_AnswersLookupsAndWritesWithoutReadingTheStore()
    {
        var store = new FakeRegistry();
        var corps = Enumerable.Range(0, 1000).Select(_ => "ww" + Guid.NewGuid().ToString("N")[..16]).ToArray();
        var key = Crypto.EncodingAesKey.Generate();
        for (var i = 0; i < 100_000; i++)
        {
            store.Add(Registrations.New(corps[i % corps.Length], $"wk{i:D8}") with { EncodingAesKey = key });
        }
        var directory = DirectoryOver(store);
        await directory.RefreshAsync(Ct);
        var readsAfterLoad = store.Reads;

        var found = await directory.FindInCorpAsync(corps[42], $"wk{42:D8}", Ct);
        var another = await directory.FindInCorpAsync(corps[999], $"wk{99_999:D8}", Ct);
        var registered = await store.UpsertAsync(Registrations.New(corps[7]) with { EncodingAesKey = key }, Ct);
        await directory.ApplyAsync(registered, Ct);

        Assert.Equal(100_001, directory.Count);
        Assert.NotNull(found);
        Assert.NotNull(another);
        Assert.NotNull(directory.Find(registered.KfId));
        Assert.Equal(101, directory.CountInCorp(corps[7]));
        Assert.Equal(readsAfterLoad, store.Reads);
    }

    [Fact]
    public async Task TheSameRegistrationReadAgain_WithANewInstanceList_ChangesNothing_AndADifferentOneDoes()
    {
        var directory = DirectoryOver(new FakeRegistry());
        var now = Registrations.TruncatedNow();
        var registration = Registrations.New() with { Instances = [new PuppetInstance("10.0.0.5", "http://10.0.0.5:8080", now)] };
        await directory.ApplyAsync(registration, Ct);
        var entry = directory.Find(registration.KfId);
        var credentials = directory.CredentialsFor(registration.CorpId);

        // As a catch-up reads it back from the store: equal values, new list and strings.
        await directory.ApplyAsync(registration with { Instances = [new PuppetInstance("10.0.0.5", "http://10.0.0.5:8080", now)] }, Ct);

        Assert.Same(entry, directory.Find(registration.KfId));
        Assert.Same(credentials, directory.CredentialsFor(registration.CorpId));

        await directory.ApplyAsync(registration with { Instances = [new PuppetInstance("10.0.0.6", "http://10.0.0.6:8080", now)] }, Ct);

        Assert.NotSame(entry, directory.Find(registration.KfId));
        Assert.Equal("10.0.0.6", directory.Find(registration.KfId)!.Registration.Newest!.Address);
    }

    [Fact]
    public async Task PuppetsOfOneApp_ShareItsCrypto_WhetherLoadedTogetherOrRegisteredLater()
    {
        var store = new FakeRegistry();
        var first = store.Add(Registrations.New());
        var second = store.Add(Registrations.New(first.CorpId) with { Token = first.Token, EncodingAesKey = first.EncodingAesKey });
        var otherApp = store.Add(Registrations.New(first.CorpId));
        var directory = DirectoryOver(store);
        await directory.RefreshAsync(Ct);
        var later = Registrations.New(first.CorpId) with { Token = first.Token, EncodingAesKey = first.EncodingAesKey };
        await directory.ApplyAsync(await store.UpsertAsync(later, Ct), Ct);

        var shared = directory.Find(first.KfId)!.Crypto;
        Assert.Same(shared, directory.Find(second.KfId)!.Crypto);
        Assert.Same(shared, directory.Find(later.KfId)!.Crypto);
        Assert.NotSame(shared, directory.Find(otherApp.KfId)!.Crypto);
        Assert.Equal(2, directory.CredentialsFor(first.CorpId).Count);
    }
}
