using CommerceMM.Coordinator.Contracts;
using CommerceMM.Coordinator.Hosting;
using CommerceMM.Coordinator.Persistence;
using CommerceMM.Storage.Blobs;
using CommerceMM.Storage.Checkpoints;
using Microsoft.Extensions.Logging;

namespace CommerceMM.Coordinator.Grains.Checkpoints;

/// <remarks>Calls the ledger, the job and the membership grains, which call nothing back (membership calls the job and the ledger).</remarks>
internal sealed partial class CheckpointGrain(
    [PersistentState(GrainStateKeys.Checkpoints, GrainStateKeys.Provider)] IPersistentState<CheckpointState> state, CoordinatorOptions coordinator, SiloRecoveries recoveries, ILogger<CheckpointGrain> logger)
    : PersistentGrain<CheckpointState>(state, "checkpoints"), ICheckpointGrain
{
    private readonly IBlobStore _store = coordinator.BlobStore;
    private readonly TimeSpan _timeout = coordinator.Liveness.CheckpointTimeout;
    private readonly TimeProvider _time = coordinator.TimeProvider;
    private readonly ILogger _logger = logger;
    private JobSpec _spec = null!;
    private IShardLedgerGrain _ledger = null!;
    private IJobGrain _job = null!;
    private IMembershipGrain _membership = null!;

    /// <summary>
    /// The steps whose saves failed (or were abandoned) in this activation since the last cleanup, which may have left
    /// parts. Only these: a folder this activation did not see fail could be another activation's save under way.
    /// </summary>
    private readonly HashSet<long> _failedSteps = [];

    /// <summary>The longest the cleanup of failed saves may hold up an order (it runs in the grain's turn); what it misses, the next does.</summary>
    private static readonly TimeSpan FailedSavesCleanupLimit = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Brings the stored state in line with storage before the first order or vote (the host activates every entity
    /// before serving). Torn commits are resolved first (<see cref="CheckpointRecovery"/>); then 'latest' is the
    /// truth for what is committed (<see cref="CheckpointStartup"/>), whatever this state said.
    /// </summary>
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _spec = coordinator.SpecOf(Key);
        (_ledger, _job, _membership) = (GrainFactory.GetGrain<IShardLedgerGrain>(Key), GrainFactory.GetGrain<IJobGrain>(Key), GrainFactory.GetGrain<IMembershipGrain>(Key));
        if (!StateExists)
        {
            State = new CheckpointState(null, null, 0, null);
        }

        LatestPointer? latest;
        IReadOnlyList<RecoveredCommit> recovered = [];
        if (recoveries.TryStart(Key))
        {
            // Once per silo: a re-activation there follows a lost ETag race, i.e. another writer, whose commit in flight
            // would look torn. Before this silo's first activation no commit of its own can be in flight.
            CheckpointRecoveryResult recovery = await CheckpointRecovery.RecoverAsync(_store, Key, cancellationToken);
            (latest, recovered) = (recovery.Latest, recovery.Actions);
            foreach (RecoveredCommit r in recovered) LogRecovered(_logger, Key, r.ToString());
        }
        else
        {
            latest = (await CheckpointCommitter.ReadLatestAsync(_store, Key, cancellationToken))?.Pointer;
        }

        if (State.LastCommitted is { } said && said.Step != latest?.Step)
        {
            RollbackRecord? rollback = (await CheckpointRollback.ListAsync(_store, Key, cancellationToken)).LastOrDefault(k => k.Record?.ToStep == latest?.Step)?.Record;
            if (rollback is not null) LogRolledBack(_logger, Key, rollback.ToString());
            else LogDisagreed(_logger, Key, said.Step, latest?.Step.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none");
        }

        CheckpointState before = State;
        (State, CommittedDataPosition? committed) = CheckpointStartup.Reconcile(State, latest, recovered, _time.GetUtcNow());
        if (committed is not null)
        {
            await _ledger.RecordCommitAsync(committed, cancellationToken);
        }

        // 'latest' moved back while no coordinator ran (`cmm checkpoints rollback`): the ledger's positions of the steps
        // above it are another lineage's, and it would take no commit until the training passed them again.
        await _ledger.ForgetCommitsAfterAsync(latest?.Step, cancellationToken);

        // Leavers are deliberately not let go for an order found committed here: on a relaunch the job has just reopened,
        // and stopping it, or moving its generation on, would turn the relaunched workers away. Waiting workers exit after
        // their grace.
        if (State != before)
        {
            await SaveAsync(cancellationToken);
        }
    }

    public async Task<GrainResult<CheckpointProgress>> OnProgressAsync(
        long generation, int worldSize, int rank, long maxStep, int leadSteps, bool stopRequested = false, CancellationToken cancellationToken = default)
    {
        DropOrdersOlderThan(generation);
        if (State.Pending is { ReachedAt: null } reached && maxStep >= reached.Step)
        {
            State = State with { Pending = reached with { ReachedAt = _time.GetUtcNow() } };
        }

        DropExpiredOrder();
        if (stopRequested)
        {
            await OrderStopAsync(generation, worldSize, maxStep, leadSteps, cancellationToken);
        }
        else if (State.Pending is null
            && CheckpointSchedule.NextPeriodic(_spec.CheckpointEverySteps, Math.Max(State.LastOrderedStep, State.LastCommitted?.Step ?? 0), maxStep, leadSteps) is { } next
            && (_spec.MaxSteps is not { } max || next <= max))
        {
            await DeleteFailedSavesAsync(cancellationToken);
            State = State with { Pending = new PendingCheckpoint(generation, next, worldSize, "periodic", [], _time.GetUtcNow(), []), LastOrderedStep = next };
            LogOrdered(_logger, Key, next, generation, "periodic");
        }

        if (!await SaveAsync(cancellationToken))
        {
            return GrainResult<CheckpointProgress>.Conflict(ConflictMessage);
        }

        CheckpointOrderView? order = State.Pending is { } p && p.Generation == generation && !p.Votes.Any(v => v.Rank == rank) ? p.View() : null;
        return new CheckpointProgress(order, State.LastCommitted?.Step, State.Pending is { } open && open.Generation == generation ? open.Step : null);
    }

    /// <summary>
    /// The job was asked to stop: the next checkpoint is the one it stops at, as soon as every rank can hear of it in time
    /// to hold there. An order no rank has reached yet becomes that one, moved up if it lies further ahead (a periodic one
    /// can be a hundred steps away); one being saved commits first, and the stop is ordered after it, as it is after a
    /// checkpoint that failed. Near the last step the final checkpoint comes first, and the job completes.
    /// </summary>
    private async Task OrderStopAsync(long generation, int worldSize, long maxStep, int leadSteps, CancellationToken cancellationToken)
    {
        long step = Math.Max(maxStep, State.LastCommitted?.Step ?? 0) + leadSteps;
        bool IsFinal(long at) => _spec.MaxSteps is { } max && at >= max;
        if (State.Pending is { } p)
        {
            if (!p.Stops && p.Generation == generation && p.ReachedAt is null && !IsFinal(p.Step))
            {
                long at = Math.Min(p.Step, step);
                State = State with { Pending = p with { Step = at, Stops = true, Reason = $"{p.Reason}; stop requested" }, LastOrderedStep = at };
                LogOrdered(_logger, Key, at, generation, State.Pending!.Reason);
            }

            return;
        }

        // The heartbeat read the request before the stop's checkpoint committed and ended the job: nothing more to order.
        if (IsFinal(step) || (await _job.GetAsync(cancellationToken)).HasEnded)
        {
            return;
        }

        await DeleteFailedSavesAsync(cancellationToken);
        State = State with { Pending = new PendingCheckpoint(generation, step, worldSize, "stop requested", [], _time.GetUtcNow(), [], Stops: true), LastOrderedStep = step };
        LogOrdered(_logger, Key, step, generation, "stop requested");
    }

    public async Task<GrainResult<CheckpointOrderView>> OrderAsync(long generation, int worldSize, long step, string reason, string? leaving, bool regroup, CancellationToken cancellationToken = default)
    {
        DropOrdersOlderThan(generation);
        DropExpiredOrder();
        if (regroup && State.Pending is { } open && open.Generation == generation)
        {
            // A newcomer's regroup takes the open order where it is while no rank has reached it (each hears of it in time);
            // one being saved would reach ranks that already saved too late to hold them there.
            if (open.ReachedAt is not null && !open.EndsGeneration)
            {
                return GrainResult<CheckpointOrderView>.Conflict($"the checkpoint at step {open.Step} is being saved; order again after it commits");
            }

            step = open.Step;
        }

        if (State.LastCommitted is { } last && step <= last.Step)
        {
            return GrainResult<CheckpointOrderView>.Invalid("atStep", $"step {step} is not after the last committed checkpoint (step {last.Step})");
        }

        // The last step's checkpoint is the final one: nobody leaves it or joins after it, the job completes there.
        bool final = _spec.MaxSteps is { } max && step >= max;
        if (final)
        {
            (leaving, regroup) = (null, false);
        }

        (IReadOnlyList<string> leavers, bool regroups, bool stops) = ([], regroup, false);
        if (State.Pending is { } p && p.Generation == generation)
        {
            if (p.Step == step)
            {
                State = State with { Pending = p.WithLeaver(leaving) with { Regroup = p.Regroup || regroup } };
            }
            else if (p.Votes.Count > 0)
            {
                return GrainResult<CheckpointOrderView>.Conflict(
                    $"the checkpoint at step {p.Step} already has votes from ranks {string.Join(", ", p.Votes.Select(v => v.Rank))}; order again after it commits");
            }
            else
            {
                // An unvoted order (say, a periodic one far ahead, or another worker's departure a step earlier) gives way;
                // whoever was leaving or joining with it does so with this one, unless this one is the final checkpoint.
                if (!final) (leavers, regroups, stops) = (p.Leavers, p.Regroup || regroup, p.Stops);
                State = State with { Pending = null };
            }
        }

        if (State.Pending is null)
        {
            await DeleteFailedSavesAsync(cancellationToken);
            var order = new PendingCheckpoint(generation, step, worldSize, reason, leavers, _time.GetUtcNow(), [], Regroup: regroups, Stops: stops);
            State = State with { Pending = order.WithLeaver(leaving), LastOrderedStep = step };
            LogOrdered(_logger, Key, step, generation, reason);
        }

        return await SaveAsync(cancellationToken) ? State.Pending!.View() : GrainResult<CheckpointOrderView>.Conflict(ConflictMessage);
    }

    public async Task<GrainResult<CheckpointVoteReply>> VoteAsync(CheckpointVote vote, CancellationToken cancellationToken = default)
    {
        DropOrdersOlderThan(vote.Generation);
        if (State.LastCommitted is { } last && last.Step == vote.Step && State.Pending?.Step != vote.Step)
        {
            return new CheckpointVoteReply(CheckpointVoteStatus.Committed, vote.Step, $"step {vote.Step} is already committed"); // a retried last vote
        }

        if (State.Pending is not { } p || p.Generation != vote.Generation)
        {
            return GrainResult<CheckpointVoteReply>.Conflict($"no checkpoint is ordered in generation {vote.Generation}");
        }

        if (p.Step != vote.Step)
        {
            return GrainResult<CheckpointVoteReply>.Conflict($"the checkpoint ordered in generation {p.Generation} is at step {p.Step}, not {vote.Step}");
        }

        if (vote.Failure is { } failure)
        {
            CheckpointVoteReply failed = Failed(p, $"rank {vote.Rank} could not save its part: {failure}");
            return await SaveAsync(cancellationToken) ? failed : GrainResult<CheckpointVoteReply>.Conflict(ConflictMessage);
        }

        var recorded = new RecordedVote(vote.Rank, vote.WorkerId, vote.Files, vote.ConfigHash, vote.CodeVersion, vote.DataPosition);
        p = p with { Votes = [.. p.Votes.Where(v => v.Rank != vote.Rank), recorded], ReachedAt = p.ReachedAt ?? _time.GetUtcNow() };
        State = State with { Pending = p };
        CheckpointVoteReply reply = p.Votes.Count < p.WorldSize
            ? new CheckpointVoteReply(CheckpointVoteStatus.Pending, p.Step, $"{p.Votes.Count} of {p.WorldSize} ranks have voted")
            : await CommitAsync(p, cancellationToken);
        return await SaveAsync(cancellationToken) ? reply : GrainResult<CheckpointVoteReply>.Conflict(ConflictMessage);
    }

    public async Task<GrainResult<CheckpointStatusView>> OnRestoredAsync(long? restoredStep, CancellationToken cancellationToken = default)
    {
        if (State.LastCommitted is not { } last || last.Step <= (restoredStep ?? -1))
        {
            return View(); // another rank's report, or a retry, got here first
        }

        CheckpointRecoveryResult rolledBack;
        CheckpointManifest? restored;
        try
        {
            rolledBack = await CheckpointRecovery.RollBackAsync(_store, Key, restoredStep, cancellationToken);
            restored = rolledBack.Latest is { } l ? await CheckpointCatalog.ReadManifestAsync(_store, Key, l.Step, cancellationToken) : null;
        }
        catch (CheckpointException e)
        {
            LogNotSetAside(_logger, Key, e.Message);
            return GrainResult<CheckpointStatusView>.Conflict(e.Message);
        }

        string setAside = string.Join("; ", rolledBack.Actions.Select(a => $"step {a.Step}: {a.Reason}"));
        LogSetAside(_logger, Key, setAside);
        State = State with
        {
            // An order placed from the corrupt step (none has votes before the first step) gives way, so the schedule re-places it.
            Pending = State.Pending is { Votes.Count: > 0 } voted ? voted : null,
            LastCommitted = restored is null ? null : new CommittedCheckpointView(restored.Step, restored.Generation, restored.WorldSize, restored.CreatedUtc),
            LastOrderedStep = restored?.Step ?? 0,
            LastFailure = $"set aside: {setAside}",
        };
        if (!await SaveAsync(cancellationToken))
        {
            return GrainResult<CheckpointStatusView>.Conflict(ConflictMessage);
        }

        await _ledger.ForgetCommitsAfterAsync(restored?.Step, cancellationToken);
        return View();
    }

    public Task<CheckpointStatusView> GetAsync(CancellationToken cancellationToken = default) => Task.FromResult(View());

    private CheckpointStatusView View() => new(State.Pending?.View(), State.LastCommitted, State.LastFailure);

    /// <summary>Every rank voted: build the manifest from their files and hand it to the storage library's commit.</summary>
    private async Task<CheckpointVoteReply> CommitAsync(PendingCheckpoint p, CancellationToken cancellationToken)
    {
        State = State with { Pending = null };
        var hashes = p.Votes.Select(v => v.ConfigHash).Distinct(StringComparer.Ordinal).ToList();
        if (hashes.Count != 1)
        {
            return Failed(p, $"ranks disagree on the config hash ({string.Join(", ", p.Votes.OrderBy(v => v.Rank).Select(v => $"rank {v.Rank}: {v.ConfigHash}"))})");
        }

        CheckpointCommitResult result;
        try
        {
            RecordedVote first = p.Votes.OrderBy(v => v.Rank).First();
            var files = p.Votes.SelectMany(v => v.Files.Select(f => new CheckpointFileEntry(f.Path, f.Size, f.Sha256, v.Rank)));
            var manifest = CheckpointManifest.Create(Key, p.Step, p.Generation, p.WorldSize, first.ConfigHash, first.CodeVersion, files, _time);
            result = await CheckpointCommitter.CommitAsync(_store, manifest, cancellationToken);
        }
        catch (CheckpointException e)
        {
            return Failed(p, e.Message);
        }

        if (result.Status == CheckpointCommitStatus.Invalid)
        {
            return Failed(p, result.Message);
        }

        // LostRace means another committer created this step's manifest first. It counts only once 'latest' has reached
        // the step, as restore counts it; a manifest above 'latest' is a commit that never finished.
        if (result.Status == CheckpointCommitStatus.LostRace)
        {
            long? reached = (await CheckpointCommitter.ReadLatestAsync(_store, Key, cancellationToken))?.Pointer.Step;
            if (reached is null || reached < p.Step)
            {
                return Failed(p, $"{result.Message}, but latest has not reached it");
            }
        }

        State = State with { LastCommitted = new CommittedCheckpointView(p.Step, p.Generation, p.WorldSize, _time.GetUtcNow()), LastFailure = null };
        LogCommitted(_logger, Key, p.Step, p.Generation, result.Message);
        var positions = p.Votes.OrderBy(v => v.Rank).Select(v => new RankDataPosition(v.Rank, v.DataPosition)).ToList();
        await _ledger.RecordCommitAsync(new CommittedDataPosition(p.Step, p.Generation, p.WorldSize, positions), cancellationToken);
        await RegroupAsync(p, cancellationToken);

        ApplyRetentionInBackground(p.Step);
        return new CheckpointVoteReply(CheckpointVoteStatus.Committed, p.Step, result.Message);
    }

    /// <summary>
    /// A checkpoint that ends its generation committed: the ranks regroup without the workers that left and with the
    /// newcomers that waited, in a new generation, which is no restart (nothing failed). The job stops instead when it was
    /// asked to (for good), or when every worker of the whole job leaves at once (Ctrl+C, a deleted Job, a reclaim of every
    /// node: until a worker joins again), resumable from this checkpoint either way. When the job had
    /// already shrunk (earlier leavers not back yet), the last ones leaving are more of the same preemptions, not a stop:
    /// the job waits, with no members, for the workers that are being started again.
    /// </summary>
    private async Task RegroupAsync(PendingCheckpoint p, CancellationToken cancellationToken)
    {
        if (!p.EndsGeneration)
        {
            return;
        }

        bool everyoneLeaves = p.Leavers.Count > 0 && p.Votes.All(v => p.Leavers.Contains(v.WorkerId, StringComparer.Ordinal));
        if (p.Stops)
        {
            await _job.EndAsync(JobState.Stopped, $"stopped by request after checkpoint at step {p.Step}; resumable: a relaunch resumes it", cancellationToken: cancellationToken);
        }
        else if (everyoneLeaves && p.WorldSize >= _spec.Workers)
        {
            await _job.EndAsync(JobState.Stopped, $"stopped after checkpoint at step {p.Step} ({p.Reason}): every worker left; resumable, and the next worker to join resumes it",
                reopensWhenAWorkerJoins: true, cancellationToken);
        }
        else
        {
            // The order's reason is why workers leave; a growth's says no more than "joined".
            string after = p.Leavers.Count > 0 ? $"after checkpoint at step {p.Step} ({p.Reason})" : $"after checkpoint at step {p.Step}";
            await _membership.RegroupAsync(p.Generation, p.Leavers, after, cancellationToken);
        }
    }

    /// <summary>
    /// Deletes checkpoints the retention policy no longer keeps, off the entity's turn (deleting reads and
    /// lists blobs). The storage library never deletes the newest verified one; a failure is logged and the
    /// next commit tries again.
    /// </summary>
    private void ApplyRetentionInBackground(long committedStep)
    {
        var policy = new CheckpointRetentionPolicy(Math.Max(1, _spec.KeepLast), Math.Max(0, _spec.KeepEvery));
        string job = Key;
        _ = Task.Run(async () =>
        {
            try
            {
                var deleted = await CheckpointRetention.ApplyAsync(_store, job, policy, committedStep);
                if (deleted.Count > 0) LogRetention(_logger, job, string.Join(", ", deleted));
            }
            catch (Exception e)
            {
                LogRetentionFailed(_logger, job, e.Message);
            }
        });
    }

    /// <summary>
    /// Deletes the parts that failed saves left (<see cref="CheckpointRetention.DeleteFailedSavesAsync"/>), in this turn,
    /// before the next order goes out: no save is under way then, and no commit can come between the listing and the
    /// deletes. Once per failed save, and bounded in time, so that a store that is down does not hold up every heartbeat.
    /// </summary>
    private async Task DeleteFailedSavesAsync(CancellationToken cancellationToken)
    {
        if (_failedSteps.Count == 0)
        {
            return;
        }

        long[] failed = [.. _failedSteps];
        _failedSteps.Clear();
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(FailedSavesCleanupLimit);
        try
        {
            var deleted = await CheckpointRetention.DeleteFailedSavesAsync(_store, Key, failed, State.LastCommitted?.Step, limit.Token);
            if (deleted.Count > 0) LogFailedSavesDeleted(_logger, Key, string.Join(", ", deleted));
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            LogRetentionFailed(_logger, Key, $"the parts of failed saves were not deleted: {e.Message}");
        }
    }

    private CheckpointVoteReply Failed(PendingCheckpoint p, string message)
    {
        _failedSteps.Add(p.Step);
        string text = $"checkpoint at step {p.Step} was not committed: {message}";
        State = State with { Pending = null, LastFailure = text, LastOrderedStep = State.LastCommitted?.Step ?? 0 };
        LogFailed(_logger, Key, p.Step, text);
        return new CheckpointVoteReply(CheckpointVoteStatus.Failed, p.Step, text);
    }

    /// <summary>An order of an older generation can never complete (its world is gone): drop it and let the schedule re-place it.</summary>
    private void DropOrdersOlderThan(long generation)
    {
        if (State.Pending is { } p && p.Generation < generation)
        {
            _failedSteps.Add(p.Step);
            State = State with
            {
                Pending = null,
                LastOrderedStep = State.LastCommitted?.Step ?? 0,
                LastFailure = $"checkpoint at step {p.Step} of generation {p.Generation} was abandoned: the generation moved on",
            };
        }
    }

    /// <summary>
    /// An order still missing votes a checkpoint timeout after its step was reached never will get them: give it up so
    /// later orders can go out. Counted from reaching the step, not from ordering, because periodic orders go out early.
    /// </summary>
    private void DropExpiredOrder()
    {
        if (State.Pending is { ReachedAt: { } reachedAt } p && _time.GetUtcNow() - reachedAt > _timeout)
        {
            string missing = string.Join(", ", Enumerable.Range(0, p.WorldSize).Where(r => !p.Votes.Any(v => v.Rank == r)));
            Failed(p, $"ranks {missing} did not vote within {_timeout.TotalSeconds:0} s");
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {Job}: checkpoint ordered at step {Step} (generation {Generation}, {Reason})")]
    private static partial void LogOrdered(ILogger logger, string job, long step, long generation, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {Job}: checkpoint at step {Step} committed (generation {Generation}): {Message}")]
    private static partial void LogCommitted(ILogger logger, string job, long step, long generation, string message);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {Job}: deleted what failed saves left at steps {Steps}")]
    private static partial void LogFailedSavesDeleted(ILogger logger, string job, string steps);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {Job}: retention deleted checkpoints at steps {Steps}")]
    private static partial void LogRetention(ILogger logger, string job, string steps);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {Job}: retention failed ({Problem}); the next commit tries again")]
    private static partial void LogRetentionFailed(ILogger logger, string job, string problem);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {Job}: torn checkpoint commit resolved on start-up: {Action}")]
    private static partial void LogRecovered(ILogger logger, string job, string action);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {Job}: the coordinator's state had step {Said} as the last committed checkpoint, but latest names {Latest}; following latest, which workers restore")]
    private static partial void LogDisagreed(ILogger logger, string job, long said, string latest);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {Job}: latest was {Rollback} (cmm checkpoints rollback); the job goes on from there")]
    private static partial void LogRolledBack(ILogger logger, string job, string rollback);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {Job}: the workers restored an older checkpoint than the last committed one; verified here and set aside: {SetAside}")]
    private static partial void LogSetAside(ILogger logger, string job, string setAside);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {Job}: the workers restored an older checkpoint than the last committed one, but nothing was set aside: {Problem}")]
    private static partial void LogNotSetAside(ILogger logger, string job, string problem);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {Job}: checkpoint at step {Step} failed: {Message}")]
    private static partial void LogFailed(ILogger logger, string job, long step, string message);
}
