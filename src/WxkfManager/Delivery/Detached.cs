namespace WxkfManager.Delivery;

/// <summary>
/// Starts work that outlives the code starting it (a delivery attempt, a writer's loop) without that code's
/// execution context: a request's log scope, trace and Activity stay with the request.
/// </summary>
public static class Detached
{
    public static Task Run(Func<Task> work)
    {
        if (ExecutionContext.IsFlowSuppressed())
        {
            return Task.Run(work);
        }
        using (ExecutionContext.SuppressFlow())
        {
            return Task.Run(work);
        }
    }
}
