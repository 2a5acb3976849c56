using CommerceMM.Coordinator.Contracts;
using CommerceMM.Coordinator.Grains.Jobs;
using CommerceMM.Coordinator.Hosting;
using CommerceMM.Coordinator.Persistence;
using Microsoft.Extensions.Logging;

namespace CommerceMM.Coordinator.Grains.Membership;

/// <remarks>Calls the job, the ledger and the rendezvous grains, which call nothing back (no call cycle, so no deadlock).</remarks>
internal sealed partial class MembershipGrain(
    [PersistentState(GrainStateKeys.Membership, GrainStateKeys.Provider)] IPersistentState<MembershipState> state, CoordinatorOptions coordinator, ILocalSiloDetails silo, ILogger<MembershipGrain> logger)
    : PersistentGrain<MembershipState>(state, "membership"), IMembershipGrain
{
    private readonly LivenessOptions _options = coordinator.Liveness;
    private readonly TimeProvider _time = coordinator.TimeProvider;
    private readonly ILogger _logger = logger;
    private readonly LivenessTracker _liveness = new(coordinator.Liveness);
    // Newcomers waiting for the running generation to grow at a checkpoint: since when, their last poll, their process. In
    // memory only: after a restart they poll again.
    private readonly Dictionary<string, (DateTimeOffset Since, DateTimeOffset Polled, string? Incarnation)> _joining = new(StringComparer.Ordinal);
    // False until a member heartbeats to this coordinator process. A member coming back as a new process before that is
    // taken for a relaunch of the whole job, which starts the spec's workers, not the old generation's.
    private bool _heardFromAMember;
    private JobSpec _spec = null!;
    private IJobGrain _job = null!;
    private IShardLedgerGrain _ledger = null!;
    private IRendezvousGrain _rendezvous = null!;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _spec = coordinator.SpecOf(Key);
        (_job, _ledger, _rendezvous) = (GrainFactory.GetGrain<IJobGrain>(Key), GrainFactory.GetGrain<IShardLedgerGrain>(Key), GrainFactory.GetGrain<IRendezvousGrain>(Key));
        if (!StateExists)
        {
            State = new MembershipState(JobGrain.FirstGeneration, Gathering: true, _spec.Workers, null, [], [], 0, [], null);
        }

        // After a restart nobody has heartbeated to this process yet: everyone gets the startup timeout to reconnect,
        // and every waiting worker counts as polling now.
        _liveness.StartGeneration(State.Members.Select(m => m.WorkerId), _time.GetUtcNow());
        foreach (WaitingWorker waiting in State.Waiting)
        {
            _liveness.RecordPoll(waiting.WorkerId, _time.GetUtcNow());
        }

        // The job is bumped before membership is written; a crash in between leaves the job ahead. Catch up locally.
        // A relaunch (a coordinator started for an ended job) moved it ahead too.
        await FollowTheJobAsync(await _job.GetAsync(cancellationToken), "coordinator restarted during a generation change", cancellationToken);

        // The rendezvous keys live in memory: after a (re)start they serve the generation membership holds.
        await _rendezvous.OpenGenerationAsync(State.Generation);
    }

    public async Task<GrainResult<JoinOutcome>> JoinAsync(string workerId, string? incarnation = null, CancellationToken cancellationToken = default)
    {
        if (State.Gathering)
        {
            _liveness.RecordPoll(workerId, _time.GetUtcNow()); // before the sweep, which forgets whoever stopped polling
        }

        if (await SweepCoreAsync(cancellationToken) is { } sweepFailure)
        {
            return sweepFailure.Cast<JoinOutcome>();
        }

        JobSnapshot job = await _job.GetAsync(cancellationToken);
        if (job.ReopensWhenAWorkerJoins)
        {
            // Every worker left (a spot reclaim of the whole job, a deleted Job): this is one coming back.
            GrainResult<JobSnapshot> reopened = await _job.ReopenAsync($"worker '{workerId}' joined", cancellationToken);
            if (!reopened.IsOk)
            {
                return reopened.Cast<JoinOutcome>();
            }

            job = reopened.Value!;
            LogReopened(_logger, Key, workerId, job.Generation);
            await FollowTheJobAsync(job, job.Reason!, cancellationToken);
        }

        if (job.HasEnded)
        {
            return GrainResult<JoinOutcome>.JobEnded(job.State, $"job '{Key}' is {job.State}: {job.Reason}");
        }

        if (!State.Gathering)
        {
            if (State.Members.FirstOrDefault(m => m.WorkerId == workerId) is { } member)
            {
                if (!IsNewProcess(member.Incarnation, incarnation))
                {
                    return Assigned(member.Rank); // a retried join of the same process
                }

                // A rank holder joins once per process and generation, so its old process is gone (killed and
                // restarted, or the whole job relaunched): whatever it sent or was given in this generation,
                // votes and leases included, must stop counting. A new generation fences all of it.
                string reason = $"worker '{workerId}' (rank {member.Rank}) came back as a new process; its previous process is gone";
                int expected = _heardFromAMember ? State.Members.Count : _spec.Workers;
                if (await BumpAsync(State.Members, reason, expected, restart: true, cancellationToken) is { } bumpFailure)
                {
                    return bumpFailure.Cast<JoinOutcome>();
                }

                if (!State.Gathering)
                {
                    JobSnapshot ended = await _job.GetAsync(cancellationToken); // the bump ended it (too many restarts)
                    return GrainResult<JoinOutcome>.JobEnded(ended.State, $"job '{Key}' is {ended.State}: {ended.Reason}");
                }
            }
            else if (State.Members.Count + StillJoining(_time.GetUtcNow()).Count(id => id != workerId) >= _spec.Workers) // each has a rank promised
            {
                return GrainResult<JoinOutcome>.Conflict($"job '{Key}' is full: all {_spec.Workers} ranks of generation {State.Generation} are held or promised");
            }
            else
            {
                // A newcomer (say, a preempted worker's replacement) while running below the target size. The job grows at a
                // checkpoint, which the caller orders, so that no step is redone; until then it waits. Not a restart: if it
                // replaces a lost worker, that loss counted then.
                DateTimeOffset polled = _time.GetUtcNow();
                _joining[workerId] = (_joining.TryGetValue(workerId, out var known) ? known.Since : polled, polled, incarnation);
                return new JoinOutcome(JoinStatus.Waiting, State.Generation, -1, 0, _options.JoinPollInterval, GrowsAtCheckpoint: true);
            }
        }

        DateTimeOffset now = _time.GetUtcNow();
        _liveness.RecordPoll(workerId, now); // again: a generation opened above starts with no polls
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
                return GrainResult<JoinOutcome>.Conflict($"job '{Key}' is full: {_spec.Workers} workers already wait for generation {State.Generation}");
            }

            int? previousRank = State.Survivors.FirstOrDefault(s => s.WorkerId == workerId)?.Rank;
            State = State with
            {
                Waiting = [.. State.Waiting, new WaitingWorker(workerId, previousRank, now, incarnation)],
                GatherDeadline = State.GatherDeadline ?? now + _options.RendezvousTimeout,
            };
            LogJoined(_logger, Key, workerId, State.Generation, State.Waiting.Count, State.Expected);
        }

        if (RendezvousComplete(now) && await AssignAsync(cancellationToken) is { } assignFailure)
        {
            return assignFailure.Cast<JoinOutcome>();
        }

        if (!await SaveAsync(cancellationToken))
        {
            return GrainResult<JoinOutcome>.Conflict(ConflictMessage);
        }

        return State.Gathering
            ? new JoinOutcome(JoinStatus.Waiting, State.Generation, -1, 0, _options.JoinPollInterval)
            : Assigned(State.Members.First(m => m.WorkerId == workerId).Rank);
    }

    public async Task<GrainResult<HeartbeatOutcome>> HeartbeatAsync(HeartbeatRequest heartbeat, CancellationToken cancellationToken = default)
    {
        if (await SweepCoreAsync(cancellationToken) is { } sweepFailure)
        {
            return sweepFailure;
        }

        if (Fence(heartbeat.WorkerId, heartbeat.Generation, heartbeat.Rank) is { } fenced)
        {
            return fenced;
        }

        _liveness.Record(heartbeat, _time.GetUtcNow());
        _heardFromAMember = true;
        return Continue();
    }

    public async Task<GrainResult<HeartbeatOutcome>> ReportFailureAsync(FailureReport report, CancellationToken cancellationToken = default)
    {
        if (Fence(report.WorkerId, report.Generation, report.Rank) is { } fenced)
        {
            return fenced; // includes "already bumped": the reporter is a survivor and is told to rejoin
        }

        // Who died is unknown (the reporter is alive); everyone is welcome back, and the rendezvous deadline
        // completes the next generation without whoever does not return.
        string reason = $"rank {report.Rank} (worker '{report.WorkerId}') reported {report.Reason}";
        if (await BumpAsync(State.Members, reason, State.Members.Count, restart: true, cancellationToken) is { } bumpFailure)
        {
            return bumpFailure;
        }

        return await SaveAsync(cancellationToken) ? Rejoin() : GrainResult<HeartbeatOutcome>.Conflict(ConflictMessage);
    }

    /// <summary>Newcomers that polled within the timeout floor; the others' processes are gone.</summary>
    private IEnumerable<string> StillJoining(DateTimeOffset now) =>
        _joining.Where(j => now - j.Value.Polled <= _options.TimeoutFloor).Select(j => j.Key);

    public async Task RegroupAsync(long generation, IReadOnlyList<string> leavers, string reason, CancellationToken cancellationToken = default)
    {
        if (State.Gathering || State.Generation != generation)
        {
            return; // the generation already ended (a failure, an eviction): its rendezvous decides who comes back
        }

        DateTimeOffset now = _time.GetUtcNow();
        var left = State.Members.Where(m => leavers.Contains(m.WorkerId, StringComparer.Ordinal)).ToList();
        var survivors = State.Members.Except(left).ToList();
        // Newcomers still polling; the rendezvous waits for them, not for the leavers (a leaver that comes back joins later).
        var newcomers = StillJoining(now).Where(id => !survivors.Any(m => m.WorkerId == id)).Order(StringComparer.Ordinal)
            .Select(id => new WaitingWorker(id, null, _joining[id].Since, _joining[id].Incarnation)).ToList();
        int target = Math.Clamp(survivors.Count + newcomers.Count, _spec.MinWorkers, _spec.Workers);
        var changes = left.Select(m => $"rank {m.Rank} (worker '{m.WorkerId}') left").Concat(newcomers.Select(w => $"worker '{w.WorkerId}' joined")).ToList();
        string who = changes.Count > 0 ? string.Join(", ", changes) : "nobody joined (the newcomers stopped waiting)";
        int going = survivors.Count + newcomers.Count;
        string why = going == 0
            ? $"{who} {reason}; waiting for workers to join (up to {_spec.Workers})"
            : $"{who} {reason}; going on with {target} worker(s){(target < _spec.Workers ? " until more join" : "")}";
        if (await BumpAsync(survivors, why, target, restart: false, cancellationToken) is not null || !State.Gathering)
        {
            return;
        }

        // The newcomers have waited all along: they are in the new rendezvous already, and the survivors complete it.
        foreach (WaitingWorker newcomer in newcomers)
        {
            _liveness.RecordPoll(newcomer.WorkerId, now);
        }

        State = State with { Waiting = newcomers, GatherDeadline = newcomers.Count > 0 ? now + _options.RendezvousTimeout : null };
        await SaveAsync(cancellationToken);
    }

    public Task<GrainResult<int>> CheckMemberAsync(string workerId, long generation, int rank, CancellationToken cancellationToken = default) =>
        Task.FromResult(
            Fence(workerId, generation, rank) is { } fenced
                ? fenced.IsOk ? GrainResult<int>.Stale(State.Generation, $"generation {generation} ended; rejoin generation {State.Generation}") : fenced.Cast<int>()
                : GrainResult<int>.Ok(State.Members.Count));

    public Task SweepAsync(CancellationToken cancellationToken = default) =>
        SweepCoreAsync(cancellationToken);

    public async Task<MembershipSnapshot> GetAsync(CancellationToken cancellationToken = default)
    {
        await SweepCoreAsync(cancellationToken);
        DateTimeOffset now = _time.GetUtcNow();
        IEnumerable<MemberView> members = State.Gathering
            ? State.Waiting.Select(w => Waiting(w.WorkerId, w.JoinedAt))
            : State.Members.Select(m => _liveness.View(m.WorkerId, m.Rank, now)).Concat(StillJoining(now).Select(id => Waiting(id, _joining[id].Since)));
        return new MembershipSnapshot(
            State.Generation, State.Gathering, State.Gathering ? 0 : State.Members.Count, _liveness.MaxStep,
            HeartbeatTimeoutPolicy.CheckpointLead(_options, _liveness.StepSeconds),
            HeartbeatTimeoutPolicy.Steady(_options, _liveness.StepSeconds), members.ToList(), State.LastBumpReason, silo.SiloAddress.ToString());
    }

    private MemberView Waiting(string workerId, DateTimeOffset since) =>
        new(workerId, null, MemberState.Waiting, null, (_time.GetUtcNow() - since).TotalSeconds, null, null, null);

    /// <summary>
    /// The generation fence. Null when the caller holds <paramref name="rank"/> in the current, assigned generation;
    /// Ok(Rejoin) for a survivor of an older generation; Stale or NotMember otherwise.
    /// </summary>
    private GrainResult<HeartbeatOutcome>? Fence(string workerId, long generation, int rank)
    {
        long current = State.Generation;
        if (generation < current)
        {
            bool survivor = generation == State.SurvivorsGeneration && State.Survivors.Any(s => s.WorkerId == workerId && s.Rank == rank);
            return survivor
                ? Rejoin()
                : GrainResult<HeartbeatOutcome>.Stale(current, $"generation {generation} is stale: the job is at generation {current} and worker '{workerId}' is not among the survivors of {generation}; join again");
        }

        if (generation > current)
        {
            return GrainResult<HeartbeatOutcome>.Stale(current, $"generation {generation} is newer than the coordinator's ({current}); join again");
        }

        if (State.Gathering)
        {
            return GrainResult<HeartbeatOutcome>.NotMember(current, $"the rendezvous of generation {current} is still open; join first");
        }

        RankedWorker? member = State.Members.FirstOrDefault(m => m.WorkerId == workerId);
        if (member is null || member.Rank != rank)
        {
            string holder = State.Members.FirstOrDefault(m => m.Rank == rank)?.WorkerId ?? "nobody";
            return GrainResult<HeartbeatOutcome>.NotMember(current, $"worker '{workerId}' does not hold rank {rank} in generation {current} (held by {holder}); join again");
        }

        return null;
    }

    /// <summary>Completes a timed-out rendezvous, or evicts overdue ranks with a generation bump. Null on success.</summary>
    private async Task<GrainResult<HeartbeatOutcome>?> SweepCoreAsync(CancellationToken cancellationToken)
    {
        DateTimeOffset now = _time.GetUtcNow();
        if (State.Gathering)
        {
            bool forgot = ForgetWorkersThatStoppedPolling(now);
            if (!RendezvousComplete(now))
            {
                return forgot && !await SaveAsync(cancellationToken) ? GrainResult<HeartbeatOutcome>.Conflict(ConflictMessage) : null;
            }

            if (await AssignAsync(cancellationToken) is { } failure)
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
            if (await BumpAsync(survivors, reason, survivors.Count, restart: true, cancellationToken) is { } failure)
            {
                return failure;
            }
        }

        return await SaveAsync(cancellationToken) ? null : GrainResult<HeartbeatOutcome>.Conflict(ConflictMessage);
    }

    /// <summary>Drops waiting workers whose process is gone (a pod deleted while it waited); true when any was dropped.</summary>
    private bool ForgetWorkersThatStoppedPolling(DateTimeOffset now)
    {
        var gone = _liveness.StoppedPolling(State.Waiting.Select(w => w.WorkerId), now).ToList();
        if (gone.Count == 0)
        {
            return false;
        }

        var waiting = State.Waiting.Where(w => !gone.Any(g => g.WorkerId == w.WorkerId)).ToList();
        // With nobody left waiting, the next join opens a full rendezvous window again.
        State = State with { Waiting = waiting, GatherDeadline = waiting.Count == 0 ? null : State.GatherDeadline };
        foreach ((string workerId, TimeSpan silent) in gone)
        {
            LogStoppedPolling(_logger, Key, workerId, State.Generation, silent.TotalSeconds);
        }

        return true;
    }

    private bool RendezvousComplete(DateTimeOffset now) =>
        State.Gathering && State.Waiting.Count > 0
        && (State.Waiting.Count >= State.Expected || (State.GatherDeadline is { } deadline && now >= deadline && State.Waiting.Count >= _spec.MinWorkers));

    /// <summary>Ranks the waiting workers (survivors first, in their old order; then newcomers by arrival) and records it.</summary>
    private async Task<GrainResult<HeartbeatOutcome>?> AssignAsync(CancellationToken cancellationToken)
    {
        var ranked = State.Waiting
            .OrderBy(w => w.PreviousRank ?? int.MaxValue)
            .ThenBy(w => w.JoinedAt)
            .ThenBy(w => w.WorkerId, StringComparer.Ordinal)
            .Select((w, rank) => new RankedWorker(w.WorkerId, rank, w.Incarnation))
            .ToList();

        // The ledger and the job learn first: if this process dies before membership is written, the next activation
        // re-runs the rendezvous and both calls are idempotent for the same generation.
        GrainResult<ShardLedgerView> ledger = await _ledger.AssignAsync(
            State.Generation, ranked.Select(r => new ShardAssignment(r.Rank, r.Rank, r.WorkerId)).ToList(), cancellationToken);
        if (!ledger.IsOk)
        {
            return ledger.Cast<HeartbeatOutcome>();
        }

        GrainResult<JobSnapshot> job = await _job.MarkRunningAsync(State.Generation, cancellationToken);
        if (!job.IsOk)
        {
            return job.Cast<HeartbeatOutcome>();
        }

        State = State with { Gathering = false, Waiting = [], GatherDeadline = null, Members = ranked };
        _liveness.StartGeneration(ranked.Select(r => r.WorkerId), _time.GetUtcNow());
        LogAssigned(_logger, Key, State.Generation, ranked.Count);
        return null;
    }

    /// <summary>
    /// Opens the rendezvous of the job's generation when the job is ahead of membership (it reopened, or moved on just before
    /// a crash); everyone who held a rank is welcome back to it, in their old order. A reopened job (Pending) waits for the
    /// spec's workers, which a relaunch starts, however many the generation before it had.
    /// </summary>
    private async Task FollowTheJobAsync(JobSnapshot job, string reason, CancellationToken cancellationToken)
    {
        if (job.Generation <= State.Generation)
        {
            return;
        }

        await OpenRendezvousAsync(
            job.Generation,
            State.Gathering ? State.Survivors : State.Members,
            State.Gathering ? State.SurvivorsGeneration : State.Generation,
            reason,
            job.State == JobState.Pending ? _spec.Workers : null);
        await SaveAsync(cancellationToken);
    }

    /// <summary>Moves to the next generation (through the job, which owns the number) and opens its rendezvous.</summary>
    private async Task<GrainResult<HeartbeatOutcome>?> BumpAsync(IReadOnlyList<RankedWorker> survivors, string reason, int expected, bool restart, CancellationToken cancellationToken)
    {
        GrainResult<JobSnapshot> job = await _job.AdvanceGenerationAsync(State.Generation, reason, restart, cancellationToken);
        if (!job.IsOk)
        {
            return job.Cast<HeartbeatOutcome>();
        }

        if (job.Value!.Generation <= State.Generation)
        {
            return null; // the job has ended (or gave up after too many restarts): nothing to rejoin; heartbeats get 'stop'
        }

        LogBumped(_logger, Key, State.Generation, job.Value.Generation, reason);
        await OpenRendezvousAsync(job.Value.Generation, survivors, State.Generation, reason, expected);
        return null;
    }

    private async Task OpenRendezvousAsync(long generation, IReadOnlyList<RankedWorker> survivors, long survivorsGeneration, string reason, int? expected = null)
    {
        _joining.Clear(); // newcomers join the new rendezvous like anyone else
        int target = Math.Clamp(expected ?? survivors.Count, _spec.MinWorkers, _spec.Workers);
        State = new MembershipState(generation, Gathering: true, target, null, [], [], survivorsGeneration, survivors, reason);
        await _rendezvous.OpenGenerationAsync(generation); // the old generation's keys go, and its late writes are refused
        _liveness.StartGeneration([], _time.GetUtcNow());
    }

    /// <summary>True when <paramref name="joining"/> names another process than the one recorded; a client that sends none is never taken for a restart.</summary>
    private static bool IsNewProcess(string? recorded, string? joining) => joining is not null && !string.Equals(recorded, joining, StringComparison.Ordinal);

    private GrainResult<JoinOutcome> Assigned(int rank) =>
        new JoinOutcome(JoinStatus.Assigned, State.Generation, rank, State.Members.Count, TimeSpan.Zero);

    private GrainResult<HeartbeatOutcome> Continue() => new HeartbeatOutcome(
        HeartbeatVerdict.Continue, State.Generation, State.Members.Count, _liveness.MaxStep,
        HeartbeatTimeoutPolicy.CheckpointLead(_options, _liveness.StepSeconds), HeartbeatTimeoutPolicy.Steady(_options, _liveness.StepSeconds), null);

    private GrainResult<HeartbeatOutcome> Rejoin() => new HeartbeatOutcome(
        HeartbeatVerdict.Rejoin, State.Generation, 0, 0, _options.MinCheckpointLeadSteps, _options.StartupTimeout, State.LastBumpReason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {Job}: worker {WorkerId} joined generation {Generation} ({Waiting}/{Expected})")]
    private static partial void LogJoined(ILogger logger, string job, string workerId, long generation, int waiting, int expected);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {Job}: worker {WorkerId} stopped polling the rendezvous of generation {Generation} ({SilentSeconds:0.#} s ago); it no longer waits for a rank")]
    private static partial void LogStoppedPolling(ILogger logger, string job, string workerId, long generation, double silentSeconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {Job}: generation {Generation} assigned {WorldSize} ranks")]
    private static partial void LogAssigned(ILogger logger, string job, long generation, int worldSize);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {Job}: worker {WorkerId} joined the job that stopped when every worker left; it resumes in generation {Generation}")]
    private static partial void LogReopened(ILogger logger, string job, string workerId, long generation);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {Job}: generation {From} -> {To}: {Reason}")]
    private static partial void LogBumped(ILogger logger, string job, long from, long to, string reason);
}
