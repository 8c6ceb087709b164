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
    private readonly ConcurrentQueue<Call> _calls = new();

    private Action<string, object?[]>? _beforeNext;

    /// <summary>One call: <see cref="Returned"/> is set once the store returns (for async methods, the task).</summary>
    public sealed record Call(string Method, object?[] Arguments)
    {
        public object? Returned { get; set; }

        /// <summary>The store finished it: an async call's task is complete.</summary>
        public bool Finished => Returned is not Task task || task.IsCompleted;
    }

    public IReadOnlyList<Call> Of(string method) => _calls.Where(c => c.Method == method).ToArray();

    /// <summary>Runs <paramref name="action"/> once, on the caller's thread, before the next call to <paramref name="method"/> reaches the store.</summary>
    public void BeforeNext(string method, Action<object?[]> action) =>
        _beforeNext = (name, args) =>
        {
            if (name == method && Interlocked.Exchange(ref _beforeNext, null) is not null)
            {
                action(args);
            }
        };

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
            _calls._beforeNext?.Invoke(targetMethod!.Name, args ?? []);
            var call = new Call(targetMethod!.Name, args ?? []);
            _calls._calls.Enqueue(call);
            try
            {
                call.Returned = targetMethod.Invoke(_inner, args);
                return call.Returned;
            }
            catch (TargetInvocationException exception) when (exception.InnerException is { } inner)
            {
                ExceptionDispatchInfo.Capture(inner).Throw();
                throw;
            }
        }
    }
}
