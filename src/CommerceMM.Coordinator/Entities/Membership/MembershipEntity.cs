using CommerceMM.Coordinator.Contracts;
using CommerceMM.Coordinator.Entities.Abstractions;
using CommerceMM.Coordinator.Entities.Jobs;
using CommerceMM.Coordinator.Hosting;
using CommerceMM.Storage.Blobs;
using Microsoft.Extensions.Logging;

namespace CommerceMM.Coordinator.Entities.Membership;

internal sealed partial class MembershipEntity : PersistentEntity<MembershipState>, IMembershipEntity
{
    private readonly JobSpec _spec;
    private readonly IJobEntity _job;
    private readonly IShardLedgerEntity _ledger;
    private readonly IRendezvousEntity _rendezvous;
    private readonly LivenessOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly LivenessTracker _liveness;

    public MembershipEntity(
        JobSpec spec, IJobEntity job, IShardLedgerEntity ledger, IRendezvousEntity rendezvous, IBlobStore store, LivenessOptions options, TimeProvider time, ILogger logger)
        : base(spec.Name, store, "membership", Initial(spec))
    {
        _spec = spec;
        _job = job;
        _ledger = ledger;
        _rendezvous = rendezvous;
        _options = options;
        _time = time;
        _logger = logger;
        _liveness = new LivenessTracker(options);
    }

    private static MembershipState Initial(JobSpec spec) =>
        new(JobEntity.FirstGeneration, Gathering: true, spec.Workers, null, [], [], 0, [], null);

    protected override async Task OnActivatedAsync(CancellationToken cancellationToken)
    {
        // After a restart nobody has heartbeated to this process yet: everyone gets the startup timeout to reconnect.
        _liveness.StartGeneration(State.Members.Select(m => m.WorkerId), _time.GetUtcNow());

        // The job is bumped before membership is written; a crash in between leaves the job ahead. Catch up locally.
        JobSnapshot job = await _job.GetAsync(cancellationToken).ConfigureAwait(false);
        if (job.Generation > State.Generation)
        {
            OpenRendezvous(
                job.Generation,
                State.Gathering ? State.Survivors : State.Members,
                State.Gathering ? State.SurvivorsGeneration : State.Generation,
                "coordinator restarted during a generation change");
            await SaveAsync(cancellationToken).ConfigureAwait(false);
        }

        // The rendezvous keys live in memory: after a (re)start they serve the generation membership holds.
        _rendezvous.OpenGeneration(State.Generation);
    }

    public Task<EntityResult<JoinOutcome>> JoinAsync(string workerId, string? incarnation = null, CancellationToken cancellationToken = default) =>
        TurnAsync(
            async () =>
            {
                if (await SweepCoreAsync(cancellationToken).ConfigureAwait(false) is { } sweepFailure)
                {
                    return sweepFailure.Cast<JoinOutcome>();
                }

                JobSnapshot job = await _job.GetAsync(cancellationToken).ConfigureAwait(false);
                if (job.HasEnded)
                {
                    return EntityResult<JoinOutcome>.Conflict($"job '{Key}' is {job.State}: {job.Reason}");
                }

                if (!State.Gathering)
                {
                    string reason;
                    int expected;
                    if (State.Members.FirstOrDefault(m => m.WorkerId == workerId) is { } member)
                    {
                        if (!IsNewProcess(member.Incarnation, incarnation))
                        {
                            return Assigned(member.Rank); // a retried join of the same process
                        }

                        // A rank holder joins once per process and generation, so its old process is gone (killed and
                        // restarted, or the whole job relaunched): whatever it sent or was given in this generation,
                        // votes and leases included, must stop counting. A new generation fences all of it.
                        (reason, expected) = ($"worker '{workerId}' (rank {member.Rank}) came back as a new process; its previous process is gone", State.Members.Count);
                    }
                    else if (State.Members.Count >= _spec.Workers)
                    {
                        return EntityResult<JoinOutcome>.Conflict($"job '{Key}' is full: all {_spec.Workers} ranks of generation {State.Generation} are held");
                    }
                    else
                    {
                        // A newcomer (say, a restarted worker) while running below the target size: grow by one generation.
                        (reason, expected) = ($"worker '{workerId}' joined; growing from {State.Members.Count} to {State.Members.Count + 1} workers", State.Members.Count + 1);
                    }

                    if (await BumpAsync(State.Members, reason, expected, cancellationToken).ConfigureAwait(false) is { } bumpFailure)
                    {
                        return bumpFailure.Cast<JoinOutcome>();
                    }

                    if (!State.Gathering)
                    {
                        JobSnapshot ended = await _job.GetAsync(cancellationToken).ConfigureAwait(false); // the bump ended it (too many restarts)
                        return EntityResult<JoinOutcome>.Conflict($"job '{Key}' is {ended.State}: {ended.Reason}");
                    }
                }

                DateTimeOffset now = _time.GetUtcNow();
                if (State.Waiting.FirstOrDefault(w => w.WorkerId == workerId) is { } waiting)
                {
                    if (IsNewProcess(waiting.Incarnation, incarnation))
                    {
                        // A gathering generation has handed nothing out yet (no ranks, so no votes, leases or keys):
                        // the new process just takes the old one's place in it.
                        State = State with { Waiting = [.. State.Waiting.Select(w => w == waiting ? w with { Incarnation = incarnation } : w)] };
                    }
                }
                else
                {
                    if (State.Waiting.Count >= _spec.Workers)
                    {
                        return EntityResult<JoinOutcome>.Conflict($"job '{Key}' is full: {_spec.Workers} workers already wait for generation {State.Generation}");
                    }

                    int? previousRank = State.Survivors.FirstOrDefault(s => s.WorkerId == workerId)?.Rank;
                    State = State with
                    {
                        Waiting = [.. State.Waiting, new WaitingWorker(workerId, previousRank, now, incarnation)],
                        GatherDeadline = State.GatherDeadline ?? now + _options.RendezvousTimeout,
                    };
                    LogJoined(_logger, Key, workerId, State.Generation, State.Waiting.Count, State.Expected);
                }

                if (RendezvousComplete(now) && await AssignAsync(cancellationToken).ConfigureAwait(false) is { } assignFailure)
                {
                    return assignFailure.Cast<JoinOutcome>();
                }

                if (!await SaveAsync(cancellationToken).ConfigureAwait(false))
                {
                    return EntityResult<JoinOutcome>.Conflict(ConflictMessage);
                }

                return State.Gathering
                    ? new JoinOutcome(JoinStatus.Waiting, State.Generation, -1, 0, _options.JoinPollInterval)
                    : Assigned(State.Members.First(m => m.WorkerId == workerId).Rank);
            },
            cancellationToken);

    public Task<EntityResult<HeartbeatOutcome>> HeartbeatAsync(HeartbeatRequest heartbeat, CancellationToken cancellationToken = default) =>
        TurnAsync(
            async () =>
            {
                if (await SweepCoreAsync(cancellationToken).ConfigureAwait(false) is { } sweepFailure)
                {
                    return sweepFailure;
                }

                if (Fence(heartbeat.WorkerId, heartbeat.Generation, heartbeat.Rank) is { } fenced)
                {
                    return fenced;
                }

                _liveness.Record(heartbeat, _time.GetUtcNow());
                return Continue();
            },
            cancellationToken);

    public Task<EntityResult<HeartbeatOutcome>> ReportFailureAsync(FailureReport report, CancellationToken cancellationToken = default) =>
        TurnAsync(
            async () =>
            {
                if (Fence(report.WorkerId, report.Generation, report.Rank) is { } fenced)
                {
                    return fenced; // includes "already bumped": the reporter is a survivor and is told to rejoin
                }

                // Who died is unknown (the reporter is alive); everyone is welcome back, and the rendezvous deadline
                // completes the next generation without whoever does not return.
                string reason = $"rank {report.Rank} (worker '{report.WorkerId}') reported a failed collective: {report.Reason}";
                if (await BumpAsync(State.Members, reason, State.Members.Count, cancellationToken).ConfigureAwait(false) is { } bumpFailure)
                {
                    return bumpFailure;
                }

                return await SaveAsync(cancellationToken).ConfigureAwait(false) ? Rejoin() : EntityResult<HeartbeatOutcome>.Conflict(ConflictMessage);
            },
            cancellationToken);

    public Task<EntityResult<int>> CheckMemberAsync(string workerId, long generation, int rank, CancellationToken cancellationToken = default) =>
        TurnAsync(
            () => Task.FromResult(
                Fence(workerId, generation, rank) is { } fenced
                    ? fenced.IsOk ? EntityResult<int>.Stale(State.Generation, $"generation {generation} ended; rejoin generation {State.Generation}") : fenced.Cast<int>()
                    : EntityResult<int>.Ok(State.Members.Count)),
            cancellationToken);

    public Task SweepAsync(CancellationToken cancellationToken = default) =>
        TurnAsync(() => SweepCoreAsync(cancellationToken), cancellationToken);

    public Task<MembershipSnapshot> GetAsync(CancellationToken cancellationToken = default) =>
        TurnAsync(
            async () =>
            {
                await SweepCoreAsync(cancellationToken).ConfigureAwait(false);
                DateTimeOffset now = _time.GetUtcNow();
                IEnumerable<MemberView> members = State.Gathering
                    ? State.Waiting.Select(w => new MemberView(w.WorkerId, null, MemberState.Waiting, null, (now - w.JoinedAt).TotalSeconds, null, null, null))
                    : State.Members.Select(m => _liveness.View(m.WorkerId, m.Rank, now));
                return new MembershipSnapshot(
                    State.Generation, State.Gathering, State.Gathering ? 0 : State.Members.Count, _liveness.MaxStep,
                    HeartbeatTimeoutPolicy.CheckpointLead(_options, _liveness.StepSeconds),
                    HeartbeatTimeoutPolicy.Steady(_options, _liveness.StepSeconds), members.ToList(), State.LastBumpReason);
            },
            cancellationToken);

    /// <summary>
    /// The generation fence. Null when the caller holds <paramref name="rank"/> in the current, assigned generation;
    /// Ok(Rejoin) for a survivor of an older generation; Stale or NotMember otherwise.
    /// </summary>
    private EntityResult<HeartbeatOutcome>? Fence(string workerId, long generation, int rank)
    {
        long current = State.Generation;
        if (generation < current)
        {
            bool survivor = generation == State.SurvivorsGeneration && State.Survivors.Any(s => s.WorkerId == workerId && s.Rank == rank);
            return survivor
                ? Rejoin()
                : EntityResult<HeartbeatOutcome>.Stale(current, $"generation {generation} is stale: the job is at generation {current} and worker '{workerId}' is not among the survivors of {generation}; join again");
        }

        if (generation > current)
        {
            return EntityResult<HeartbeatOutcome>.Stale(current, $"generation {generation} is newer than the coordinator's ({current}); join again");
        }

        if (State.Gathering)
        {
            return EntityResult<HeartbeatOutcome>.NotMember(current, $"the rendezvous of generation {current} is still open; join first");
        }

        RankedWorker? member = State.Members.FirstOrDefault(m => m.WorkerId == workerId);
        if (member is null || member.Rank != rank)
        {
            string holder = State.Members.FirstOrDefault(m => m.Rank == rank)?.WorkerId ?? "nobody";
            return EntityResult<HeartbeatOutcome>.NotMember(current, $"worker '{workerId}' does not hold rank {rank} in generation {current} (held by {holder}); join again");
        }

        return null;
    }

    /// <summary>Completes a timed-out rendezvous, or evicts overdue ranks with a generation bump. Null on success.</summary>
    private async Task<EntityResult<HeartbeatOutcome>?> SweepCoreAsync(CancellationToken cancellationToken)
    {
        DateTimeOffset now = _time.GetUtcNow();
        if (State.Gathering)
        {
            if (!RendezvousComplete(now))
            {
                return null;
            }

            if (await AssignAsync(cancellationToken).ConfigureAwait(false) is { } failure)
            {
                return failure;
            }
        }
        else
        {
            var overdue = _liveness.Overdue(State.Members.Select(m => m.WorkerId), now).ToList();
            if (overdue.Count == 0)
            {
                return null;
            }

            string reason = string.Join("; ", overdue.Select(o =>
                $"rank {State.Members.First(m => m.WorkerId == o.WorkerId).Rank} (worker '{o.WorkerId}') missed its heartbeat: silent {o.Age.TotalSeconds:0.#} s, timeout {o.Timeout.TotalSeconds:0.#} s"));
            var survivors = State.Members.Where(m => !overdue.Any(o => o.WorkerId == m.WorkerId)).ToList();
            if (await BumpAsync(survivors, reason, survivors.Count, cancellationToken).ConfigureAwait(false) is { } failure)
            {
                return failure;
            }
        }

        return await SaveAsync(cancellationToken).ConfigureAwait(false) ? null : EntityResult<HeartbeatOutcome>.Conflict(ConflictMessage);
    }

    private bool RendezvousComplete(DateTimeOffset now) =>
        State.Gathering && State.Waiting.Count > 0
        && (State.Waiting.Count >= State.Expected || (State.GatherDeadline is { } deadline && now >= deadline && State.Waiting.Count >= _spec.MinWorkers));

    /// <summary>Ranks the waiting workers (survivors first, in their old order; then newcomers by arrival) and records it.</summary>
    private async Task<EntityResult<HeartbeatOutcome>?> AssignAsync(CancellationToken cancellationToken)
    {
        var ranked = State.Waiting
            .OrderBy(w => w.PreviousRank ?? int.MaxValue)
            .ThenBy(w => w.JoinedAt)
            .ThenBy(w => w.WorkerId, StringComparer.Ordinal)
            .Select((w, rank) => new RankedWorker(w.WorkerId, rank, w.Incarnation))
            .ToList();

        // The ledger and the job learn first: if this process dies before membership is written, the next activation
        // re-runs the rendezvous and both calls are idempotent for the same generation.
        EntityResult<ShardLedgerView> ledger = await _ledger.AssignAsync(
            State.Generation, ranked.Select(r => new ShardAssignment(r.Rank, r.Rank, r.WorkerId)).ToList(), cancellationToken).ConfigureAwait(false);
        if (!ledger.IsOk)
        {
            return ledger.Cast<HeartbeatOutcome>();
        }

        EntityResult<JobSnapshot> job = await _job.MarkRunningAsync(State.Generation, cancellationToken).ConfigureAwait(false);
        if (!job.IsOk)
        {
            return job.Cast<HeartbeatOutcome>();
        }

        State = State with { Gathering = false, Waiting = [], GatherDeadline = null, Members = ranked };
        _liveness.StartGeneration(ranked.Select(r => r.WorkerId), _time.GetUtcNow());
        LogAssigned(_logger, Key, State.Generation, ranked.Count);
        return null;
    }

    /// <summary>Moves to the next generation (through the job, which owns the number) and opens its rendezvous.</summary>
    private async Task<EntityResult<HeartbeatOutcome>?> BumpAsync(IReadOnlyList<RankedWorker> survivors, string reason, int expected, CancellationToken cancellationToken)
    {
        EntityResult<JobSnapshot> job = await _job.AdvanceGenerationAsync(State.Generation, reason, cancellationToken).ConfigureAwait(false);
        if (!job.IsOk)
        {
            return job.Cast<HeartbeatOutcome>();
        }

        if (job.Value!.Generation <= State.Generation)
        {
            return null; // the job has ended (or gave up after too many restarts): nothing to rejoin; heartbeats get 'stop'
        }

        LogBumped(_logger, Key, State.Generation, job.Value.Generation, reason);
        OpenRendezvous(job.Value.Generation, survivors, State.Generation, reason, expected);
        return null;
    }

    private void OpenRendezvous(long generation, IReadOnlyList<RankedWorker> survivors, long survivorsGeneration, string reason, int? expected = null)
    {
        int target = Math.Clamp(expected ?? survivors.Count, _spec.MinWorkers, _spec.Workers);
        State = new MembershipState(generation, Gathering: true, target, null, [], [], survivorsGeneration, survivors, reason);
        _rendezvous.OpenGeneration(generation); // the old generation's keys go, and its late writes are refused
        _liveness.StartGeneration([], _time.GetUtcNow());
    }

    /// <summary>True when <paramref name="joining"/> names another process than the one recorded; a client that sends none is never taken for a restart.</summary>
    private static bool IsNewProcess(string? recorded, string? joining) => joining is not null && !string.Equals(recorded, joining, StringComparison.Ordinal);

    private EntityResult<JoinOutcome> Assigned(int rank) =>
        new JoinOutcome(JoinStatus.Assigned, State.Generation, rank, State.Members.Count, TimeSpan.Zero);

    private EntityResult<HeartbeatOutcome> Continue() => new HeartbeatOutcome(
        HeartbeatVerdict.Continue, State.Generation, State.Members.Count, _liveness.MaxStep,
        HeartbeatTimeoutPolicy.CheckpointLead(_options, _liveness.StepSeconds), HeartbeatTimeoutPolicy.Steady(_options, _liveness.StepSeconds), null);

    private EntityResult<HeartbeatOutcome> Rejoin() => new HeartbeatOutcome(
        HeartbeatVerdict.Rejoin, State.Generation, 0, 0, _options.MinCheckpointLeadSteps, _options.StartupTimeout, State.LastBumpReason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {Job}: worker {WorkerId} joined generation {Generation} ({Waiting}/{Expected})")]
    private static partial void LogJoined(ILogger logger, string job, string workerId, long generation, int waiting, int expected);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {Job}: generation {Generation} assigned {WorldSize} ranks")]
    private static partial void LogAssigned(ILogger logger, string job, long generation, int worldSize);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {Job}: generation {From} -> {To}: {Reason}")]
    private static partial void LogBumped(ILogger logger, string job, long from, long to, string reason);
}
