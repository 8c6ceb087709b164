namespace WxkfManager.Registry;

// Placeholder so main builds until the MongoDB store lands from its branch.
public sealed class MongoPuppetRegistry : IPuppetRegistry
{
    public Task InitializeAsync(CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task<PuppetRegistration> UpsertAsync(PuppetRegistration registration, CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task<PuppetRegistration?> MarkOfflineAsync(string kfId, string corpId, DateTime at, CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task<PuppetRegistration?> FindAsync(string kfId, CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task<IReadOnlyList<PuppetRegistration>> ListAsync(CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task PingAsync(CancellationToken cancellationToken) => throw new NotSupportedException();
}
