using Microsoft.Extensions.Options;
using WxkfManager.Settings;

namespace WxkfManager.Delivery;

/// <summary>
/// The in-memory hand-off between the queue and delivery slots. An event this replica accepted comes here the
/// moment its enqueue commits, already leased, so it needs no claim and no poll; events the worker claims from
/// the store (leftovers, due retries, expired leases) join the same lanes.
/// <para>
/// Fairness: each puppet has a lane, and lanes take turns. A puppet that has answered on this replica is proven:
/// up to <see cref="DeliveryOptions.MaxInFlightPerPuppet"/> attempts in flight, from the proven pool of
/// <see cref="DeliveryOptions.Concurrency"/> slots. One that has not yet answered gets one attempt at a time from a
/// trial pool of the same size, so endpoints that accept and never answer hold one trial slot each until their first
/// timeout marks them unreachable; from then on only their probes go out, from a probe pool. Proven puppets'
/// deliveries therefore never wait on broken ones, however many there are.
/// </para>
/// </summary>
public sealed class DeliveryDispatcher(
    DeliveryTracker tracker,
    DeliverySignal signal,
    TimeProvider time,
    IOptions<DeliveryOptions> options,
    ILogger<DeliveryDispatcher> logger)
{
    private readonly DeliveryOptions _options = options.Value;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, PuppetLane> _lanes = new(StringComparer.Ordinal);
    private readonly Queue<PuppetLane> _provenTurns = new();
    private readonly Queue<PuppetLane> _trialTurns = new();
    private readonly HashSet<Task> _running = [];
    private Func<DeliveryRecord, bool, Task>? _deliver;
    private int _held;
    private int _provenInFlight;
    private int _trialInFlight;
    private int _probesInFlight;
    private bool _stopped;

    /// <summary>Who holds this replica's leases.</summary>
    public string Owner { get; } = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid().ToString("N")[..8]}";

    /// <summary>A lease token of this replica's, unique to one event, as the store's claims make them.</summary>
    public string NewLeaseToken() => $"{Owner}/{Guid.NewGuid():N}";

    /// <summary>Events waiting in memory for a slot.</summary>
    public int Held
    {
        get
        {
            lock (_gate)
            {
                return _held;
            }
        }
    }

    /// <summary>Attempts under way for one puppet (probes aside).</summary>
    public int InFlightFor(string kfId)
    {
        lock (_gate)
        {
            return _lanes.TryGetValue(kfId, out var lane) ? lane.InFlight : 0;
        }
    }

    /// <summary>How many more events the worker may claim from the store now.</summary>
    public int RoomForClaims
    {
        get
        {
            lock (_gate)
            {
                return _stopped || _deliver is null ? 0 : Math.Max(0, _options.HandOffCapacity - _held);
            }
        }
    }

    /// <summary>Probes of unreachable puppets that may start now.</summary>
    public int RoomForProbes
    {
        get
        {
            lock (_gate)
            {
                return _stopped || _deliver is null ? 0 : Math.Max(0, _options.ProbeConcurrency - _probesInFlight);
            }
        }
    }

    /// <summary>Set by the worker when it starts: how an event is delivered (one attempt).</summary>
    public void Start(Func<DeliveryRecord, bool, Task> deliver)
    {
        lock (_gate)
        {
            _deliver = deliver;
            _stopped = false;
        }
    }

    /// <summary>
    /// Where a fresh event for <paramref name="kfId"/> goes once its enqueue commits: straight to a slot unless the puppet
    /// is held after registering (it waits in the store), stopped answering or has left an attempt unanswered for
    /// <see cref="DeliveryOptions.SilenceBeforePutOff"/> (it is stored put off, <see cref="PutOffUntil"/>), or memory holds
    /// enough already (it is stored due, for the worker). A put-off for silence is noted, so the attempt's end makes
    /// such events due (<see cref="AttemptEnded"/>).
    /// </summary>
    public FreshRoute RouteFresh(string kfId, DateTime now)
    {
        var health = tracker.HealthOf(kfId);
        if (health.IsUnreachable)
        {
            return FreshRoute.PutOff;
        }
        if (health.IsWaiting(now))
        {
            return FreshRoute.Wait;
        }
        lock (_gate)
        {
            var hasLane = _lanes.TryGetValue(kfId, out var lane);
            if (hasLane && lane!.InFlight > 0 && now - lane.LastHeardAt >= _options.SilenceBeforePutOff)
            {
                lane.PutOffWhileSilent = true;
                return FreshRoute.PutOff;
            }
            var roomInMemory = !_stopped && _deliver is not null && _held < _options.HandOffCapacity
                && (!hasLane || lane!.Queued.Count < _options.MaxHeldPerPuppet);
            return roomInMemory ? FreshRoute.HandOff : FreshRoute.Store;
        }
    }

    /// <summary>
    /// Whether events of <paramref name="kfId"/> are still put off: it is unreachable, or an attempt put off for silence
    /// has not ended. False after a put-off means the answer that wakes them may have come before the caller's insert.
    /// </summary>
    public bool StillPutsOff(string kfId)
    {
        if (IsUnreachable(kfId))
        {
            return true;
        }
        lock (_gate)
        {
            return _lanes.TryGetValue(kfId, out var lane) && lane.PutOffWhileSilent;
        }
    }

    /// <summary>The puppet stopped answering on this replica: its stored events are put off (<see cref="IDeliveryStore.ParkAsync"/>).</summary>
    public bool IsUnreachable(string kfId) => tracker.HealthOf(kfId).IsUnreachable;

    /// <summary>
    /// An attempt for <paramref name="kfId"/> ended (answered or not): silence is counted afresh from now. True when fresh
    /// events were put off while it went unanswered, once: unless the puppet turned out unreachable, they are due now.
    /// </summary>
    public bool AttemptEnded(string kfId, DateTime now)
    {
        lock (_gate)
        {
            if (!_lanes.TryGetValue(kfId, out var lane))
            {
                return false;
            }
            lane.LastHeardAt = now;
            var putOff = lane.PutOffWhileSilent;
            lane.PutOffWhileSilent = false;
            return putOff;
        }
    }

    /// <summary>
    /// Until when an event of a puppet that stopped answering is put off, unless a probe's answer wakes it sooner: as long
    /// as a lease, so should this replica die, another takes the event over as soon as it would take over a lease.
    /// </summary>
    public DateTime PutOffUntil(DateTime now) => now + _options.LeaseDuration;

    /// <summary>Lanes holding their fill: the worker leaves these puppets' stored events where they are for now.</summary>
    public IReadOnlyCollection<string> FullLanes()
    {
        lock (_gate)
        {
            var full = _lanes.Values.Where(l => l.Queued.Count >= _options.MaxHeldPerPuppet).ToArray();
            foreach (var lane in full)
            {
                lane.ReportedFull = true;
            }
            return full.Select(l => l.KfId).ToArray();
        }
    }

    /// <summary>Events leased to this replica, to be delivered as slots allow.</summary>
    public void Add(DeliveryRecord record) => Add([record]);

    public void Add(IReadOnlyList<DeliveryRecord> records)
    {
        lock (_gate)
        {
            foreach (var record in records)
            {
                if (!_lanes.TryGetValue(record.KfId, out var lane))
                {
                    lane = new PuppetLane(record.KfId);
                    _lanes[record.KfId] = lane;
                }
                lane.Queued.Enqueue(new HeldEvent(record));
                _held++;
                OfferTurn(lane);
            }
            StartWhatFits();
        }
    }

    /// <summary>A probe of an unreachable puppet: its own pool, so probes never take healthy puppets' slots.</summary>
    public void StartProbe(DeliveryRecord record)
    {
        lock (_gate)
        {
            _probesInFlight++;
            Run(record, Pool.Probe, lane: null);
        }
    }

    /// <summary>
    /// Takes out the events waiting in memory for a puppet that just stopped answering, for the caller to hand back to the
    /// store in one write. Left in its lane, each would go through a slot only to find its puppet unreachable and be
    /// written back on its own: with many puppets breaking at once, thousands of single writes ahead of the callbacks' commits.
    /// </summary>
    public IReadOnlyList<DeliveryRecord> TakeHeld(string kfId)
    {
        lock (_gate)
        {
            if (!_lanes.TryGetValue(kfId, out var lane) || lane.Queued.Count == 0)
            {
                return [];
            }
            var held = TakeQueued(lane);
            if (lane.InFlight == 0)
            {
                _lanes.Remove(kfId);
            }
            return held;
        }
    }

    /// <summary>Stops taking events and returns those not started, for the worker to hand back to the store.</summary>
    public IReadOnlyList<DeliveryRecord> Stop()
    {
        lock (_gate)
        {
            _stopped = true;
            var held = _lanes.Values.SelectMany(TakeQueued).ToList();
            _provenTurns.Clear();
            _trialTurns.Clear();
            return held;
        }
    }

    /// <summary>Empties a lane's queue (the caller holds the gate); answers the events whose lease this replica still holds.</summary>
    private DeliveryRecord[] TakeQueued(PuppetLane lane)
    {
        var held = lane.Queued.Where(h => !h.Dropped).Select(h => h.Record).ToArray();
        _held -= lane.Queued.Count;
        lane.Queued.Clear();
        return held;
    }

    /// <summary>Events waiting in memory whose lease ends before <paramref name="before"/>: the worker renews them, so a long wait never lets another claim take them.</summary>
    public IReadOnlyList<HeldEvent> LeasesEndingBefore(DateTime before)
    {
        lock (_gate)
        {
            return _lanes.Values.SelectMany(l => l.Queued).Where(h => !h.Dropped && h.Record.LeaseUntil < before).ToArray();
        }
    }

    /// <summary>A held event's lease was renewed (<paramref name="until"/>), or lost (null): then another claim delivers it, not this copy.</summary>
    public void Renewed(HeldEvent held, DateTime? until)
    {
        lock (_gate)
        {
            if (until is { } end)
            {
                held.Record = held.Record with { LeaseUntil = end };
            }
            else
            {
                held.Dropped = true;
            }
        }
    }

    /// <summary>Attempts under way, for the worker to wait on at shutdown.</summary>
    public Task[] Running()
    {
        lock (_gate)
        {
            return [.. _running];
        }
    }

    private void OfferTurn(PuppetLane lane)
    {
        var proven = IsProven(lane.KfId);
        if (!lane.HasTurn && lane.Queued.Count > 0 && lane.InFlight < (proven ? _options.MaxInFlightPerPuppet : 1))
        {
            lane.HasTurn = true;
            (proven ? _provenTurns : _trialTurns).Enqueue(lane);
        }
    }

    /// <summary>A puppet that has answered on this replica and answers still.</summary>
    private bool IsProven(string kfId) => tracker.HealthOf(kfId) is { IsUnreachable: false, LastSuccessAt: not null };

    private void StartWhatFits()
    {
        StartFrom(_provenTurns, proven: true);
        StartFrom(_trialTurns, proven: false);
    }

    /// <summary>Lanes take turns within their pool: proven puppets share <see cref="DeliveryOptions.Concurrency"/> slots, and
    /// puppets not yet proven as many again, so endpoints that never answer cannot take a proven puppet's slot.</summary>
    private void StartFrom(Queue<PuppetLane> turns, bool proven)
    {
        while (!_stopped && (proven ? _provenInFlight : _trialInFlight) < _options.Concurrency && turns.TryDequeue(out var lane))
        {
            lane.HasTurn = false;
            if (IsProven(lane.KfId) != proven)
            {
                // It answered (or stopped answering) since it queued: its turn is in the other pool now.
                OfferTurn(lane);
                if (!proven)
                {
                    StartFrom(_provenTurns, proven: true);
                }
                continue;
            }
            if (lane.Queued.Count == 0 || lane.InFlight >= (proven ? _options.MaxInFlightPerPuppet : 1))
            {
                continue;
            }
            var held = lane.Queued.Dequeue();
            _held--;
            if (held.Dropped)
            {
                OfferTurn(lane);
                continue;
            }
            if (lane.InFlight == 0)
            {
                // Silence is counted from the start of an attempt, or the end of the last one.
                lane.LastHeardAt = time.GetUtcNow().UtcDateTime;
            }
            lane.InFlight++;
            if (proven)
            {
                _provenInFlight++;
            }
            else
            {
                _trialInFlight++;
            }
            Run(held.Record, proven ? Pool.Proven : Pool.Trial, lane);
            // Back to the end of the line: every lane with work gets a turn before this one's next.
            OfferTurn(lane);
        }
    }

    private void Run(DeliveryRecord record, Pool pool, PuppetLane? lane)
    {
        var deliver = _deliver!;
        var isProbe = pool == Pool.Probe;
        // Whoever hands the event over (a callback's request, or the attempt before it on this lane) must not lend
        // the attempt its context: its log scope and trace would label another event's delivery, and a request's
        // Activity made every outbound POST start a child Activity of its own (DiagnosticsHandler).
        var task = Detached.Run(async () =>
        {
            try
            {
                await deliver(record, isProbe);
            }
            catch (Exception exception)
            {
                // The lease expires and another attempt follows; nothing is lost.
                logger.LogError(exception, "Delivery {DeliveryId} for {KfId} failed unexpectedly", record.Id, record.KfId);
            }
        });
        _running.Add(task);
        task.ContinueWith(done => Finished(done, record.KfId, pool, lane), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    private void Finished(Task task, string kfId, Pool pool, PuppetLane? lane)
    {
        var roomAgain = false;
        lock (_gate)
        {
            _running.Remove(task);
            switch (pool)
            {
                case Pool.Probe:
                    _probesInFlight--;
                    break;
                case Pool.Proven:
                    _provenInFlight--;
                    break;
                case Pool.Trial:
                    _trialInFlight--;
                    break;
            }
            if (lane is not null)
            {
                lane.InFlight--;
                lane.LastHeardAt = time.GetUtcNow().UtcDateTime;
                roomAgain = lane.ReportedFull && lane.Queued.Count < _options.MaxHeldPerPuppet;
                lane.ReportedFull &= !roomAgain;
                if (lane.InFlight == 0 && lane.Queued.Count == 0)
                {
                    // Bounded memory: a lane lives only while it has work.
                    _lanes.Remove(lane.KfId);
                }
                else
                {
                    OfferTurn(lane);
                }
            }
            StartWhatFits();
        }
        if (pool == Pool.Probe)
        {
            tracker.EndProbe(kfId, time.GetUtcNow().UtcDateTime);
            signal.NotifyProbeRoom();
        }
        if (roomAgain)
        {
            // Room again for this puppet's events that wait in the store.
            signal.Notify();
        }
    }

    private sealed class PuppetLane(string kfId)
    {
        public string KfId { get; } = kfId;

        public Queue<HeldEvent> Queued { get; } = new();

        public int InFlight { get; set; }

        public bool HasTurn { get; set; }

        /// <summary>The worker was told to leave this puppet's stored events be; it hears when there is room again.</summary>
        public bool ReportedFull { get; set; }

        /// <summary>When an attempt last started with none under way, or last ended.</summary>
        public DateTime LastHeardAt { get; set; }

        /// <summary>Fresh events were stored put off while an attempt went unanswered; the end of the attempt makes them due.</summary>
        public bool PutOffWhileSilent { get; set; }
    }

    private enum Pool
    {
        Proven,
        Trial,
        Probe,
    }

    /// <summary>An event in a lane; its lease may be renewed while it waits.</summary>
    public sealed class HeldEvent(DeliveryRecord record)
    {
        public DeliveryRecord Record { get; set; } = record;

        public bool Dropped { get; set; }
    }
}
