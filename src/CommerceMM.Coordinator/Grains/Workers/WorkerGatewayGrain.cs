using CommerceMM.Coordinator.Api;
using CommerceMM.Coordinator.Contracts;
using CommerceMM.Coordinator.Hosting;
using CommerceMM.Coordinator.Metrics;
using CommerceMM.Storage.Blobs;
using CommerceMM.Storage.Checkpoints;
using Orleans.Concurrency;

namespace CommerceMM.Coordinator.Grains.Workers;

/// <summary>
/// The workers' door into a job's grains. Stateless and local to the silo whose gateway took the call, so many run at
/// once: it checks the token and the request, then calls the job's grains in the order their protocol needs (membership
/// first: its sweep may bump the generation). The fleet metrics of the heartbeats it passes on are this silo's.
/// Reentrant as well: it holds no state, and a rendezvous read long-polls here for up to 20 s. Without reentrancy each
/// activation (Orleans makes one per core) was held by one such read, and the write it waited for queued behind it
/// until both expired: three ranks on two cores never formed their group.
/// </summary>
[StatelessWorker]
[Reentrant]
internal sealed class WorkerGatewayGrain(JobTokens tokens, CoordinatorRuntime runtime, FleetMetricsFeed fleet) : Grain, IWorkerGatewayGrain
{
    private string Job => this.GetPrimaryKeyString();

    private JobGrains Grains => JobGrains.For(GrainFactory, Job);

    public async Task<GrainResult<JoinResponse>> JoinAsync(string token, JoinRequest request, CancellationToken cancellationToken = default)
    {
        if (Refuse<JoinResponse>(token, RequestValidation.Body(request).WorkerId(request?.WorkerId).Incarnation(request?.Incarnation)) is { } refused)
        {
            return refused;
        }

        JobGrains grains = Grains;
        GrainResult<JoinOutcome> result = await grains.Membership.JoinAsync(request!.WorkerId, request.Incarnation, cancellationToken);
        if (!result.IsOk)
        {
            return result.Cast<JoinResponse>();
        }

        JoinOutcome outcome = result.Value!;
        CheckpointStatusView checkpoints = await grains.Checkpoints.GetAsync(cancellationToken);
        if (outcome.GrowsAtCheckpoint)
        {
            await OrderGrowthCheckpointAsync(grains, request.WorkerId, checkpoints.LastCommitted?.Step, cancellationToken);
        }

        return new JoinResponse(
            outcome.Status, outcome.Generation, outcome.Rank, outcome.WorldSize, outcome.RetryAfter.TotalSeconds,
            runtime.Liveness.HeartbeatInterval.TotalSeconds, checkpoints.LastCommitted?.Step);
    }

    /// <summary>
    /// A newcomer waits to join a running generation below its target size: the job grows at a checkpoint, so that no step
    /// is redone. A refusal (another checkpoint being saved) is left for the newcomer's next poll to retry.
    /// </summary>
    private static async Task OrderGrowthCheckpointAsync(JobGrains grains, string workerId, long? lastCommitted, CancellationToken cancellationToken)
    {
        MembershipSnapshot membership = await grains.Membership.GetAsync(cancellationToken);
        if (!membership.RendezvousOpen)
        {
            // Before their first heartbeat, the ranks of a new generation are at the checkpoint they restored.
            long at = Math.Max(membership.MaxStep, lastCommitted ?? 0);
            await grains.Checkpoints.OrderAsync(membership.Generation, membership.WorldSize, at + membership.LeadSteps,
                $"worker '{workerId}' waits to join", leaving: null, regroup: true, cancellationToken);
        }
    }

    public async Task<GrainResult<OrderReply>> HeartbeatAsync(string token, HeartbeatRequest request, CancellationToken cancellationToken = default)
    {
        var validation = RequestValidation.Body(request);
        if (request is not null)
        {
            validation.WorkerId(request.WorkerId).Generation(request.Generation).Rank(request.Rank).Step(request.Step)
                .Seconds(request.StepSeconds, "stepSeconds").Seconds(request.DataWaitSeconds, "dataWaitSeconds").Seconds(request.AllReduceSeconds, "allReduceSeconds")
                .MetricsUrl(request.MetricsUrl)
                .Check(request.Losses is null || request.Losses.All(l => !string.IsNullOrEmpty(l.Key) && double.IsFinite(l.Value)), "losses", "task names must be non-empty and losses finite");
        }

        if (Refuse<OrderReply>(token, validation) is { } refused)
        {
            return refused;
        }

        // The common answer (continue, or an order) takes three grain calls; the last committed step it carries comes
        // with the checkpoint progress. Only the rare stop and rejoin answers read it separately.
        JobGrains grains = Grains;
        JobSnapshot snapshot = await grains.Job.GetAsync(cancellationToken);
        if (snapshot.HasEnded)
        {
            return Reply(WorkerOrder.Stop, snapshot, snapshot.Generation, null, await LastCommittedAsync(grains, cancellationToken), TimeSpan.Zero, snapshot.Reason);
        }

        GrainResult<HeartbeatOutcome> result = await grains.Membership.HeartbeatAsync(request!, cancellationToken);
        if (!result.IsOk)
        {
            return result.Cast<OrderReply>();
        }

        HeartbeatOutcome outcome = result.Value!;
        if (outcome.Verdict == HeartbeatVerdict.Rejoin)
        {
            return Reply(WorkerOrder.Rejoin, snapshot, outcome.Generation, null, await LastCommittedAsync(grains, cancellationToken), outcome.Timeout, outcome.Reason);
        }

        fleet.OnHeartbeat(Job, request!, outcome.Generation);
        GrainResult<CheckpointProgress> progress = await grains.Checkpoints.OnProgressAsync(
            outcome.Generation, outcome.WorldSize, request!.Rank, outcome.MaxStep, outcome.LeadSteps, snapshot.StopRequested, cancellationToken);
        if (!progress.IsOk)
        {
            return progress.Cast<OrderReply>();
        }

        long? committed = progress.Value!.LastCommittedStep;
        OrderReply reply = progress.Value.Order is { } o
            ? Reply(WorkerOrder.Checkpoint, snapshot, outcome.Generation, o.Step, committed, outcome.Timeout, o.Reason) with { GenerationEndsAtCheckpoint = o.EndsGeneration }
            : Reply(WorkerOrder.None, snapshot, outcome.Generation, null, committed, outcome.Timeout, null);
        return reply with { OpenCheckpointStep = progress.Value.OpenStep };
    }

    public async Task<GrainResult<OrderReply>> ReportFailureAsync(string token, FailureReport report, CancellationToken cancellationToken = default)
    {
        var validation = RequestValidation.Body(report);
        if (report is not null)
        {
            validation.WorkerId(report.WorkerId).Generation(report.Generation).Rank(report.Rank)
                .Check(!string.IsNullOrWhiteSpace(report.Reason), "reason", "required: what failed");
        }

        if (Refuse<OrderReply>(token, validation) is { } refused)
        {
            return refused;
        }

        JobGrains grains = Grains;
        CheckpointStatusView checkpoints = await grains.Checkpoints.GetAsync(cancellationToken);
        if (report!.Fatal)
        {
            GrainResult<int> member = await grains.Membership.CheckMemberAsync(report.WorkerId, report.Generation, report.Rank, cancellationToken);
            if (!member.IsOk)
            {
                return member.Cast<OrderReply>();
            }

            GrainResult<JobSnapshot> failed = await grains.Job.EndAsync(
                JobState.Failed, $"rank {report.Rank} (worker '{report.WorkerId}') reported a fatal error: {report.Reason}", cancellationToken: cancellationToken);
            return failed.IsOk
                ? Reply(WorkerOrder.Stop, failed.Value!, failed.Value!.Generation, null, checkpoints.LastCommitted?.Step, TimeSpan.Zero, failed.Value.Reason)
                : failed.Cast<OrderReply>();
        }

        GrainResult<HeartbeatOutcome> result = await grains.Membership.ReportFailureAsync(report, cancellationToken);
        if (!result.IsOk)
        {
            return result.Cast<OrderReply>();
        }

        JobSnapshot snapshot = await grains.Job.GetAsync(cancellationToken);
        WorkerOrder order = snapshot.HasEnded ? WorkerOrder.Stop : WorkerOrder.Rejoin;
        return Reply(order, snapshot, result.Value!.Generation, null, checkpoints.LastCommitted?.Step, result.Value.Timeout, result.Value.Reason ?? snapshot.Reason);
    }

    public async Task<GrainResult<OrderReply>> CompleteAsync(string token, CompletionReport report, CancellationToken cancellationToken = default)
    {
        var validation = RequestValidation.Body(report);
        if (report is not null)
        {
            validation.WorkerId(report.WorkerId).Generation(report.Generation).Rank(report.Rank).Step(report.Step);
        }

        if (Refuse<OrderReply>(token, validation) is { } refused)
        {
            return refused;
        }

        JobGrains grains = Grains;
        GrainResult<int> member = await grains.Membership.CheckMemberAsync(report!.WorkerId, report.Generation, report.Rank, cancellationToken);
        if (!member.IsOk)
        {
            return member.Cast<OrderReply>();
        }

        // Ranks step in lockstep (every step ends in an all-reduce), so one rank's completion is the job's, once the last
        // step is saved: a job is Completed only with its final checkpoint committed.
        CheckpointStatusView checkpoints = await grains.Checkpoints.GetAsync(cancellationToken);
        long? committed = checkpoints.LastCommitted?.Step;
        if ((committed ?? -1) < report.Step)
        {
            if (checkpoints.Pending is { } final && final.Step == report.Step && final.Generation == report.Generation)
            {
                // Other ranks are still saving their parts: ask again (meanwhile heartbeats keep the rank alive).
                JobSnapshot running = await grains.Job.GetAsync(cancellationToken);
                return Reply(WorkerOrder.None, running, report.Generation, final.Step, committed, TimeSpan.Zero,
                    $"the final checkpoint at step {final.Step} waits for {final.WorldSize - final.VotedRanks.Count} more rank(s)");
            }

            string failed = FinalCheckpointMissing(report, committed, checkpoints.LastFailure);
            GrainResult<JobSnapshot> notSaved = await grains.Job.EndAsync(JobState.Failed, failed, cancellationToken: cancellationToken);
            return notSaved.IsOk
                ? Reply(WorkerOrder.Stop, notSaved.Value!, notSaved.Value!.Generation, null, committed, TimeSpan.Zero, notSaved.Value.Reason)
                : notSaved.Cast<OrderReply>();
        }

        GrainResult<JobSnapshot> ended = await grains.Job.EndAsync(JobState.Completed, $"rank {report.Rank} finished at step {report.Step}", cancellationToken: cancellationToken);
        return ended.IsOk
            ? Reply(WorkerOrder.Stop, ended.Value!, ended.Value!.Generation, null, committed, TimeSpan.Zero, ended.Value.Reason)
            : ended.Cast<OrderReply>();
    }

    /// <summary>The steps since the last commit exist only in the workers, which are about to exit: a relaunch redoes them.</summary>
    private static string FinalCheckpointMissing(CompletionReport report, long? committed, string? lastFailure) =>
        $"rank {report.Rank} reached the last step {report.Step}, but the final checkpoint was not committed" +
        (lastFailure is null ? "" : $" (last checkpoint failure: {lastFailure})") + "; " +
        (committed is { } c ? $"the last committed checkpoint is step {c}" : "no checkpoint is committed") +
        $": fix that and launch the job again, which redoes steps {committed ?? 0}..{report.Step} and saves them";

    public async Task<GrainResult<CheckpointOrderView>> OrderCheckpointAsync(string token, CheckpointOrderRequest request, CancellationToken cancellationToken = default)
    {
        var validation = RequestValidation.Body(request);
        if (request is not null)
        {
            validation.Generation(request.Generation).Check(request.AtStep is null or >= 0, "atStep", "must be >= 0 when given")
                .Check(!string.IsNullOrWhiteSpace(request.Reason) && request.Reason.Length <= 200, "reason", "required: 1 to 200 characters");
            if (request.Leaving is not null) validation.WorkerId(request.Leaving, "leaving");
        }

        if (Refuse<CheckpointOrderView>(token, validation) is { } refused)
        {
            return refused;
        }

        JobGrains grains = Grains;
        MembershipSnapshot membership = await grains.Membership.GetAsync(cancellationToken);
        if (membership.RendezvousOpen || request!.Generation != membership.Generation)
        {
            return GrainResult<CheckpointOrderView>.Stale(membership.Generation, membership.RendezvousOpen
                ? $"generation {membership.Generation} is still gathering; no ranks to order"
                : $"generation {request!.Generation} is not the current generation {membership.Generation}");
        }

        if (request.Leaving is { } leaving && !membership.Members.Any(m => m.WorkerId == leaving && m.Rank is not null))
        {
            return GrainResult<CheckpointOrderView>.Invalid("leaving", $"worker '{leaving}' holds no rank in generation {membership.Generation}; only a member can leave");
        }

        long step = request.AtStep ?? membership.MaxStep + membership.LeadSteps;
        return await grains.Checkpoints.OrderAsync(membership.Generation, membership.WorldSize, step, request.Reason, request.Leaving, regroup: false, cancellationToken);
    }

    public async Task<GrainResult<CheckpointVoteReply>> VoteCheckpointAsync(string token, CheckpointVote vote, CancellationToken cancellationToken = default)
    {
        var validation = RequestValidation.Body(vote);
        if (vote is not null)
        {
            validation.WorkerId(vote.WorkerId).Generation(vote.Generation).Rank(vote.Rank).Step(vote.Step)
                .Check(!string.IsNullOrWhiteSpace(vote.ConfigHash), "configHash", "required")
                .Check(vote.CodeVersion is not null, "codeVersion", "required (may be empty)")
                .Check(vote.Files is not null, "files", "required (may be empty)")
                .Check(vote.Failure is null || vote.Files is { Count: 0 }, "files", "must be empty in a vote that reports a failure")
                .Check(vote.Failure is null || vote.Failure.Length is > 0 and <= CheckpointVote.MaxFailureLength, "failure", $"1 to {CheckpointVote.MaxFailureLength} characters when set");
            for (int i = 0; vote.Files is not null && i < vote.Files.Count; i++)
            {
                CheckpointFile? file = vote.Files[i];
                validation
                    .Check(file is not null && BlobKey.IsValid(file.Path) && file.Path != CheckpointLayout.ManifestName, $"files[{i}].path",
                        "must be a relative path of A-Z a-z 0-9 . _ - = and '/' (not 'manifest.json')")
                    .Check(file is null || file.Size >= 0, $"files[{i}].size", "must be >= 0")
                    .Check(file?.Sha256 is { Length: 64 } sha && sha.All(char.IsAsciiHexDigitLower), $"files[{i}].sha256", "must be 64 lower-case hex digits");
            }
        }

        if (Refuse<CheckpointVoteReply>(token, validation) is { } refused)
        {
            return refused;
        }

        JobGrains grains = Grains;
        GrainResult<int> member = await grains.Membership.CheckMemberAsync(vote!.WorkerId, vote.Generation, vote.Rank, cancellationToken);
        // Not the caller's token: a last vote runs the commit, which must finish once begun even if the caller gave up
        // waiting (its retry is answered "already committed").
        return member.IsOk ? await grains.Checkpoints.VoteAsync(vote, CancellationToken.None) : member.Cast<CheckpointVoteReply>();
    }

    public async Task<GrainResult<CheckpointStatusView>> ReportRestoreAsync(string token, RestoreReport report, CancellationToken cancellationToken = default)
    {
        var validation = RequestValidation.Body(report);
        if (report is not null)
        {
            validation.WorkerId(report.WorkerId).Generation(report.Generation).Rank(report.Rank)
                .Check(report.RestoredStep is null or >= 0, "restoredStep", "must be >= 0 when given");
        }

        if (Refuse<CheckpointStatusView>(token, validation) is { } refused)
        {
            return refused;
        }

        JobGrains grains = Grains;
        GrainResult<int> member = await grains.Membership.CheckMemberAsync(report!.WorkerId, report.Generation, report.Rank, cancellationToken);
        // Not the caller's token, as for the last vote: once verification has begun, setting aside finishes.
        return member.IsOk ? await grains.Checkpoints.OnRestoredAsync(report.RestoredStep, CancellationToken.None) : member.Cast<CheckpointStatusView>();
    }

    public async Task<GrainResult<JobSpec>> GetSpecAsync(string token, CancellationToken cancellationToken = default) =>
        Refuse<JobSpec>(token, new RequestValidation()) ?? (await Grains.Job.GetAsync(cancellationToken)).Spec;

    public async Task<GrainResult<bool>> SetRendezvousAsync(string token, long generation, string key, byte[] value, CancellationToken cancellationToken = default)
    {
        var validation = new RequestValidation().Generation(generation).RendezvousKey(key)
            .Check(value is not null && value.Length <= RendezvousLimits.MaxValueBytes, "value", $"required: at most {RendezvousLimits.MaxValueBytes} bytes");
        return Refuse<bool>(token, validation) ?? await Grains.Rendezvous.SetAsync(generation, key, value!);
    }

    public async Task<GrainResult<RendezvousValue>> GetRendezvousAsync(string token, long generation, string key, TimeSpan wait, CancellationToken cancellationToken = default)
    {
        var validation = new RequestValidation().Generation(generation).RendezvousKey(key)
            .Check(wait >= TimeSpan.Zero && wait.TotalSeconds <= RendezvousLimits.MaxWaitSeconds, "wait", $"must be between 0 and {RendezvousLimits.MaxWaitSeconds} s");
        return Refuse<RendezvousValue>(token, validation) ?? await Grains.Rendezvous.GetAsync(generation, key, wait, cancellationToken);
    }

    /// <summary>The token first (an unauthenticated caller learns nothing from validation), then the request's fields.</summary>
    private GrainResult<T>? Refuse<T>(string token, RequestValidation validation)
    {
        if (!tokens.Knows(Job))
        {
            return GrainResult<T>.UnknownJob($"this control plane runs no job named '{Job}'");
        }

        if (!tokens.Verify(Job, token))
        {
            return GrainResult<T>.Unauthorized($"the token is not the token of job '{Job}'");
        }

        return validation.HasErrors ? validation.ToResult<T>() : null;
    }

    private OrderReply Reply(WorkerOrder order, JobSnapshot job, long generation, long? checkpointStep, long? lastCommittedStep, TimeSpan timeout, string? reason) =>
        new(order, generation, checkpointStep, job.State, lastCommittedStep, runtime.Liveness.HeartbeatInterval.TotalSeconds, timeout.TotalSeconds, reason);

    private static async Task<long?> LastCommittedAsync(JobGrains grains, CancellationToken cancellationToken) =>
        (await grains.Checkpoints.GetAsync(cancellationToken)).LastCommitted?.Step;
}
