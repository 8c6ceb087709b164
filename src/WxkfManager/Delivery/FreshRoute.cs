namespace WxkfManager.Delivery;

/// <summary>Where a fresh event goes once its enqueue commits (<see cref="DeliveryDispatcher.RouteFresh"/>).</summary>
public enum FreshRoute
{
    /// <summary>Leased to this replica in its own insert and handed from memory to a slot: no claim, no poll.</summary>
    HandOff,

    /// <summary>Stored due now, because memory holds enough: the worker claims it when a lane has room.</summary>
    Store,

    /// <summary>Stored due now for a puppet held after registering: the hold's end wakes the worker for it.</summary>
    Wait,

    /// <summary>
    /// Stored put off, as the rest of a silent or unreachable puppet's backlog is, so no claim reads past it; the
    /// puppet's answer (or its attempt's end) makes it due.
    /// </summary>
    PutOff,
}
