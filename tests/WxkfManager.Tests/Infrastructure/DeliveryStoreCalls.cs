using System.Collections.Concurrent;
using System.Reflection;
using System.Runtime.ExceptionServices;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using WxkfManager.Delivery;
using WxkfManager.Storage.Sqlite;

namespace WxkfManager.Tests.Infrastructure;

/// <summary>
/// The calls the manager makes to its (SQLite) delivery store, in order, each with its arguments: a test states which
/// writes a path makes, not how long it took.
/// </summary>
public sealed class DeliveryStoreCalls
{
    private readonly ConcurrentQueue<(string Method, object?[] Arguments)> _calls = new();

    public IReadOnlyList<(string Method, object?[] Arguments)> Of(string method) => _calls.Where(c => c.Method == method).ToArray();

    /// <summary>For <see cref="ManagerApp.WithServices"/>: the store is the usual one, seen through this recorder.</summary>
    public void Record(IServiceCollection services)
    {
        // Registered on its own so the container still disposes it (the proxy is not disposable).
        services.AddSingleton(sp => new SqliteDeliveryStore(sp.GetRequiredService<SqliteDatabase>()));
        services.Replace(ServiceDescriptor.Singleton(sp => Recorder.Wrap(sp.GetRequiredService<SqliteDeliveryStore>(), this)));
    }

    public class Recorder : DispatchProxy
    {
        private IDeliveryStore _inner = null!;
        private DeliveryStoreCalls _calls = null!;

        internal static IDeliveryStore Wrap(IDeliveryStore inner, DeliveryStoreCalls calls)
        {
            var proxy = Create<IDeliveryStore, Recorder>();
            var recorder = (Recorder)(object)proxy;
            recorder._inner = inner;
            recorder._calls = calls;
            return proxy;
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            _calls._calls.Enqueue((targetMethod!.Name, args ?? []));
            try
            {
                return targetMethod.Invoke(_inner, args);
            }
            catch (TargetInvocationException exception) when (exception.InnerException is { } inner)
            {
                ExceptionDispatchInfo.Capture(inner).Throw();
                throw;
            }
        }
    }
}
