using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using CommerceMM.Coordinator.Client;
using CommerceMM.Coordinator.Contracts;
using CommerceMM.Model.Tasks;
using CommerceMM.Observability.Collection;
using CommerceMM.Observability.Hosting;
using CommerceMM.Observability.Logging;
using CommerceMM.Observability.Worker;
using CommerceMM.Storage.Blobs;
using CommerceMM.Storage.Checkpoints;
using CommerceMM.Collectives;
using CommerceMM.Tensors;
using CommerceMM.Worker.Checkpointing;
using CommerceMM.Worker.DataSets;
using CommerceMM.Worker.Spec;
using CommerceMM.Worker.Training;
using Microsoft.Extensions.Logging;

namespace CommerceMM.Worker;

/// <summary>
/// A worker process's life: fetch the spec and check job.device against this machine, then for each
/// generation join (rank, world size), meet the other ranks through the coordinator's rendezvous keys and
/// build the process group (Gloo for cpu, NCCL for cuda), restore the newest verified checkpoint or start
/// from the seed, and train, heartbeating every step and obeying the replies: checkpoint at a step, stop,
/// rejoin. A failed collective is reported and answered by a new generation; survivors restore and go on.
/// </summary>
public sealed class WorkerRunner
{
    /// <summary>
    /// How a generation ended for this worker. OutOfMemory: a step did not fit the device (the spec must change). Left: it was
    /// preempted and left after its checkpoint while the job goes on.
    /// </summary>
    private enum Outcome { Done, Rejoin, OutOfMemory, Misconfigured, JobFailed, Left }

    private readonly WorkerOptions _options;
    private readonly ILogger _log;
    private readonly LogIdentity _identity;
    private CoordinatorClient _client = null!;
    private readonly TrainingMetrics _metrics = new();
    private readonly ConsumptionAudit? _audit;
    private TrainingSpec _spec = null!;
    private DeviceSettings _device = DeviceSettings.Cpu;
    private IBlobStore _store = null!;
    private string? _metricsUrl;
    /// <summary>Of <see cref="RemoteDataSet.ProcessFetchedBytes"/>, what the steps so far reported.</summary>
    private long _dataFetchedReported;

    private WorkerRunner(WorkerOptions options, ILoggerFactory loggers, LogIdentity identity)
    {
        _options = options;
        _identity = identity;
        _log = loggers.CreateLogger("cmm.worker");
        if (options.AuditDirectory is { } audit) _audit = new ConsumptionAudit(audit, options.WorkerId);
    }

    /// <param name="preempt">
    /// cancelled on SIGTERM: finish the step, checkpoint within the grace period, leave the job and exit
    /// <see cref="WorkerExitCodes.Retry"/>, so that its supervisor starts it again: the others go on without it, or, when every
    /// worker left, the job stopped there until one joins again
    /// </param>
    /// <param name="kill">cancelled when waiting is no longer allowed (a second signal)</param>
    public static async Task<int> RunAsync(WorkerOptions options, ILoggerFactory loggers, LogIdentity identity, CancellationToken preempt, CancellationToken kill)
    {
        var runner = new WorkerRunner(options, loggers, identity);
        try
        {
            return await runner.RunAsync(preempt, kill).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (kill.IsCancellationRequested)
        {
            // Told to stop waiting (a second signal): whatever it was waiting on, an exit code and a line, not a crash.
            runner._log.LogWarning("stopped at once, without a checkpoint: the job resumes from its last committed one");
            return WorkerExitCodes.Retry;
        }
        finally
        {
            if (runner._client is not null) await runner._client.DisposeAsync().ConfigureAwait(false);
            runner._metrics.Dispose();
            runner._audit?.Dispose();
        }
    }

    /// <summary>On the CPU, caps what this process may allocate, so that a batch too big fails in a step, not in the OOM killer.</summary>
    private void LimitHostMemory()
    {
        if (_device.Device.type != TorchSharp.DeviceType.CPU || _options.MemoryLimitMib == 0) return;
        if ((_options.MemoryLimitMib is { } mib ? HostMemoryLimit.Apply(mib * (1L << 20)) : HostMemoryLimit.CapAtAvailable()) is not { } limit) return;
        _metrics.RecordHostMemoryLimit(limit);
        _log.LogInformation("host memory: this worker may allocate up to {Limit:F2} GiB ({Option}; 0: none)", limit / (double)(1L << 30), HostMemoryLimit.Option);
    }

    private async Task<int> RunAsync(CancellationToken preempt, CancellationToken kill)
    {
        // Until it holds a rank a worker has nothing to checkpoint: a SIGTERM then ends its connecting and waiting at once,
        // rather than after the pod's whole grace period.
        using var untilPreempted = CancellationTokenSource.CreateLinkedTokenSource(preempt, kill);
        try
        {
            _client = await CoordinatorClient.ConnectAsync(
                new CoordinatorClientOptions { Gateways = _options.Coordinator, Job = _options.Job, Token = _options.Token }, untilPreempted.Token).ConfigureAwait(false);
            _spec = SpecJson.FromJson((await _client.GetSpecAsync(untilPreempted.Token).ConfigureAwait(false)).Config);
        }
        catch (OperationCanceledException) when (preempt.IsCancellationRequested && !kill.IsCancellationRequested)
        {
            return PreemptedBeforeJoining();
        }
        catch (SpecException e)
        {
            _log.LogError("the job spec is invalid: {Problem}", e.Message);
            return WorkerExitCodes.BadSpec;
        }
        catch (CoordinatorException e) when (e.IsUnauthorized)
        {
            _log.LogError("the coordinator at {Address} refused the job token for job '{Job}': check CMM_JOB_TOKEN or --token-file", string.Join(",", _options.Coordinator), _options.Job);
            return WorkerExitCodes.Fatal;
        }
        catch (CoordinatorException e)
        {
            _log.LogError("cannot reach the coordinator at {Address}: {Problem}", string.Join(",", _options.Coordinator), e.Message);
            return WorkerExitCodes.Retry;
        }
        try
        {
            // Here, not at spec load: whether job.device exists is a property of this machine.
            _device = MachineDevices.Resolve(_spec.Job.Device, _spec.Model.Precision);
        }
        catch (ArgumentException e)
        {
            _log.LogError("the job cannot run on this machine: {Problem}", e.Message);
            return WorkerExitCodes.BadSpec;
        }
        try
        {
            _store = _options.BlobStore ?? await BlobStores.OpenVerifiedAsync(_spec.Checkpoint, kill).ConfigureAwait(false);
        }
        catch (SpecException e)
        {
            _log.LogError("the checkpoint store is not configured: {Problem}", e.Message);
            return WorkerExitCodes.BadSpec;
        }
        catch (BlobStoreException e)
        {
            // Checked before training: a wrong credential or container would otherwise surface only at the first checkpoint.
            _log.LogError("the checkpoint store cannot be used: {Problem}", e.Message);
            return WorkerExitCodes.Fatal;
        }
        TorchRuntime.NumThreads = _spec.Job.Threads > 0 ? _spec.Job.Threads : _options.Threads ?? Environment.ProcessorCount;
        _log.LogInformation("training on {Device} in {Precision} with {Threads} intra-op thread(s)", _device.Device, _device.Precision.ToString().ToLowerInvariant(), TorchRuntime.NumThreads);
        LimitHostMemory();
        if (DataFolder.IsRemote(_spec.Data))
            _log.LogInformation("reading the data set {Source} through {Cache}: each shard is fetched as it is first read, and kept there", _spec.Data.Dir, Path.GetFullPath(DataFolder.CacheOf(_spec.Data)));

        using var pipeline = _options.MetricsPort is null ? null : MetricsPipeline.Create();
        await using var server = pipeline is null ? null : await MetricsServer.StartAsync(pipeline, IPAddress.Any, _options.MetricsPort!.Value, kill).ConfigureAwait(false);
        // Bound on every interface; peers and Prometheus reach it at the interface address, which heartbeats report.
        _metricsUrl = server is null ? null : new UriBuilder(server.MetricsUri) { Host = _options.InterfaceHost }.Uri.ToString();
        if (server is not null) _log.LogInformation("serving metrics at {Uri}", _metricsUrl);

        while (true)
        {
            try
            {
                if (ExitCode(await RunGenerationAsync(preempt, kill, untilPreempted.Token).ConfigureAwait(false)) is { } code) return code;
            }
            catch (OperationCanceledException) when (preempt.IsCancellationRequested && !kill.IsCancellationRequested)
            {
                return PreemptedBeforeJoining();
            }
            catch (CoordinatorException e) when (e.MustRejoin)
            {
                _log.LogWarning("the coordinator moved on to generation {Generation} ({Problem}): rejoining", e.CurrentGeneration, e.Message);
            }
            catch (CoordinatorException e) when (e.EndedState is { } ended)
            {
                // Started (or rejoining) after the job ended, say a pod re-created once it was over: restarting cannot help.
                _log.LogWarning("{Problem}: nothing is left to train; a relaunch starts the job's coordinator again", e.Message);
                return ExitCode(Ended(ended))!.Value;
            }
            catch (CoordinatorException e)
            {
                _log.LogError("lost the coordinator: {Problem}; exiting so the supervisor restarts this worker", e.Message);
                return WorkerExitCodes.Retry;
            }
        }
    }

    /// <summary>
    /// Not 0: an Indexed Job counts an index that exited 0 as complete and never starts it again, and the job needs every
    /// rank. 75 asks the supervisor for a new process, which rejoins.
    /// </summary>
    private int PreemptedBeforeJoining()
    {
        _log.LogWarning("SIGTERM before this worker held a rank: it has nothing to checkpoint; exiting {Code} so that the supervisor starts it again", WorkerExitCodes.Retry);
        return WorkerExitCodes.Retry;
    }

    private async Task<Outcome> RunGenerationAsync(CancellationToken preempt, CancellationToken kill, CancellationToken untilPreempted)
    {
        var join = await _client.JoinAsync(_options.WorkerId, untilPreempted).ConfigureAwait(false);
        _identity.Set(join.Rank, join.Generation);
        _log.LogInformation("joined generation {Generation} as rank {Rank} of {World}", join.Generation, join.Rank, join.WorldSize);

        // The ranks meet through this generation's rendezvous keys on the coordinator (off the training nodes).
        var store = new CoordinatorRendezvousStore(_client, join.Generation, kill);
        ProcessGroup group;
        try
        {
            group = ProcessGroup.Create(store, join.Rank, join.WorldSize, _device.Device, _options.CollectiveTimeout, _options.InterfaceHost);
        }
        catch (CollectiveException e) when (e.Error is CollectiveError.InvalidArgument or CollectiveError.Unavailable)
        {
            // This machine's settings, not a peer's failure: rejoining would fail the same way and spend the job's restart
            // budget (all 100 went in under a second, and the job ended Failed for every worker).
            _log.LogError("this worker cannot form a process group: {Problem}; check --interface (CMM_POD_IP) and job.device for this machine, then start it again", e.Message);
            // Once, so its peers move on now rather than wait out the collective timeout for a rank that will not come; the
            // worker exits whatever the answer (a refusal must not send it round again).
            try
            {
                await _client.ReportFailureAsync(new FailureReport(_options.WorkerId, join.Generation, join.Rank,
                    $"that it cannot form a process group on its machine: {e.Message}"), kill).ConfigureAwait(false);
            }
            catch (CoordinatorException refused)
            {
                _log.LogWarning("the coordinator did not take the report ({Problem})", refused.Message);
            }
            return Outcome.Misconfigured;
        }
        catch (Exception e) when (e is CollectiveException or TimeoutException)
        {
            // A peer that never published its address (TimeoutException, from the store) is a failed group too.
            return await ReportAndRejoinAsync(join, "could not form the process group", e, kill).ConfigureAwait(false);
        }
        using var ownGroup = group;

        string configHash = TrainingSession.ConfigHashFor(_spec);
        var restore = await RestoredCheckpoint.LoadNewestAsync(_store, _spec.Job.Name, configHash, join.Rank,
            skipped => _log.LogWarning("skipping checkpoint: {Reason}", skipped), kill).ConfigureAwait(false);
        // Only a job that never committed starts from another's weights; one whose checkpoints all broke starts from the seed.
        if (restore is null && join.LastCommittedStep is null && _spec.Job.InitFrom is { Length: > 0 } initFrom)
        {
            restore = await RestoredCheckpoint.LoadWeightsAsync(_store, initFrom, configHash,
                          skipped => _log.LogWarning("job.init_from: skipping checkpoint: {Reason}", skipped), kill).ConfigureAwait(false)
                      ?? throw new CheckpointException($"job.init_from: job '{initFrom}' has no verified checkpoint of this model's shape in {_spec.Checkpoint.Store}");
            _log.LogInformation("no committed checkpoint: starting from the weights of job {InitFrom}'s checkpoint step {Step} (job.init_from)", initFrom, restore.Manifest.Step);
        }
        else
            _log.LogInformation(restore is null ? "no committed checkpoint: starting from seed {Seed}" : "restoring checkpoint step {Step}",
                restore is null ? _spec.Job.Seed : restore.Manifest.Step);
        if (restore is { SkipSteps: > 0 and long skip })
            _log.LogInformation("skipping the data of {Skip} step(s) after it ({Samples} samples per stream), as the rollback to it asked", skip, skip * join.WorldSize * _spec.Data.BatchSize);
        if (join.Rank == 0 && join.LastCommittedStep > (restore?.Manifest.Step ?? -1)) await ReportOlderRestoreAsync(join, restore?.Manifest.Step, kill).ConfigureAwait(false);

        TrainingSession opened;
        try
        {
            opened = await TrainingSession.OpenAsync(_spec, _device, join.Rank, join.WorldSize, group, restore, kill).ConfigureAwait(false);
        }
        catch (CollectiveException e)
        {
            return await ReportAndRejoinAsync(join, "the initial weight broadcast failed", e, kill).ConfigureAwait(false);
        }
        catch (Exception e) when (MemoryWatch.IsOutOfMemory(e))
        {
            return await OutOfMemoryAsync(join, MemoryWatch.DescribeSetup(e, _device.Device), kill).ConfigureAwait(false);
        }
        await using var session = opened;
        await using var publisher = new CheckpointPublisher(_store, _spec.Job.Name, join.Rank, join.WorldSize, _client, _metrics, _log);
        var generation = new Generation(this, join, group, session, publisher, configHash);
        return await generation.TrainAsync(preempt, kill).ConfigureAwait(false);
    }

    /// <summary>
    /// The newer committed checkpoints failed verification here: until the coordinator sets them aside it refuses every
    /// checkpoint up to the corrupt step, a preemption's included, and the steps trained since the restore would be lost.
    /// </summary>
    private async Task ReportOlderRestoreAsync(JoinResponse join, long? restoredStep, CancellationToken kill)
    {
        try
        {
            CheckpointStatusView after = await _client.ReportRestoreAsync(new RestoreReport(_options.WorkerId, join.Generation, join.Rank, restoredStep), kill).ConfigureAwait(false);
            _log.LogWarning("the coordinator set aside the checkpoints after {Restored}; the last committed checkpoint is now {Committed}",
                restoredStep?.ToString(CultureInfo.InvariantCulture) ?? "none", after.LastCommitted?.Step.ToString(CultureInfo.InvariantCulture) ?? "none");
        }
        catch (CoordinatorException e) when (e.ProblemType == ProblemTypes.Conflict)
        {
            _log.LogWarning("the coordinator did not set aside the checkpoints after the restored one ({Problem}); checkpoints up to step {Committed} will be refused",
                e.Message, join.LastCommittedStep);
        }
    }

    /// <summary>
    /// A step, or the model before the first, did not fit: every retry would fail the same way, so the worker exits for the
    /// spec to change, and its peers hear of it at once rather than at their collective's timeout.
    /// </summary>
    private async Task<Outcome> OutOfMemoryAsync(JoinResponse join, string problem, CancellationToken kill)
    {
        _log.LogError("{Problem}", problem);
        await _client.ReportFailureAsync(new FailureReport(_options.WorkerId, join.Generation, join.Rank, problem), kill).ConfigureAwait(false);
        return Outcome.OutOfMemory;
    }

    /// <summary>How a failed collective is reported: "rank 1 (worker 'w1') reported a failed collective: ...".</summary>
    private static string FailedCollective(Exception e) => $"a failed collective: {e.Message}";

    /// <summary>
    /// A peer of this generation died while the group formed or broadcast: that is a failed collective,
    /// answered by a new generation, never a crash.
    /// </summary>
    private async Task<Outcome> ReportAndRejoinAsync(JoinResponse join, string what, Exception e, CancellationToken kill)
    {
        _log.LogWarning("{What} in generation {Generation}: {Problem}; reporting and rejoining", what, join.Generation, e.Message);
        return AfterFailureReport(await _client.ReportFailureAsync(new FailureReport(_options.WorkerId, join.Generation, join.Rank, FailedCollective(e)), kill).ConfigureAwait(false));
    }

    /// <summary>A new generation, unless the failure ended the job (say, its restarts ran out): then nothing is left to join.</summary>
    private Outcome AfterFailureReport(OrderReply reply)
    {
        if (reply.Order != WorkerOrder.Stop) return Outcome.Rejoin;
        _log.LogError("the coordinator ended the job {State}: {Reason}", reply.JobState, reply.Reason);
        return Ended(reply.JobState);
    }

    /// <summary>A Failed job's workers say so by their exit code, so that a supervisor (a Kubernetes Job) fails too.</summary>
    private static Outcome Ended(JobState state) => state == JobState.Failed ? Outcome.JobFailed : Outcome.Done;

    /// <summary>The process's exit code for how a generation ended; null for a rejoin.</summary>
    private static int? ExitCode(Outcome outcome) => outcome switch
    {
        Outcome.Done => WorkerExitCodes.Done,
        Outcome.OutOfMemory or Outcome.Misconfigured => WorkerExitCodes.BadSpec,
        Outcome.JobFailed => WorkerExitCodes.JobFailed,
        Outcome.Left => WorkerExitCodes.Retry,
        _ => null,
    };

    /// <summary>The step loop of one generation.</summary>
    private sealed class Generation(WorkerRunner owner, JoinResponse join, ProcessGroup group, TrainingSession session, CheckpointPublisher publisher, string configHash)
    {
        private readonly ThroughputMeter _throughput = new(warmupSteps: 3);
        private readonly MemoryWatch _memory = new(session.Model.Device, owner._metrics, owner._log);
        private long? _checkpointAt;
        // Workers leave once the checkpoint at _checkpointAt commits: no step after it belongs to this generation.
        private bool _generationEndsAtCheckpoint;
        // The restored checkpoint is already committed: never order or publish that step again.
        private long _lastPublished = session.Step;
        private bool _preemptionOrdered;
        // This worker is among the leavers of the order at _checkpointAt.
        private bool _leaving;
        private TimeSpan Grace => TimeSpan.FromSeconds(owner._spec.Checkpoint.GraceSeconds);

        public async Task<Outcome> TrainAsync(CancellationToken preempt, CancellationToken kill)
        {
            await using var keepAlive = new PeerWaitKeepAlive(group, TimeSpan.FromSeconds(join.HeartbeatIntervalSeconds),
                AliveAsync, owner._log);
            long maxSteps = owner._spec.Job.MaxSteps;
            while (session.Step < maxSteps)
            {
                if (preempt.IsCancellationRequested && !_preemptionOrdered) await OrderLeavingCheckpointAsync(kill).ConfigureAwait(false);

                SessionStep step;
                var clock = Stopwatch.StartNew();
                try
                {
                    step = await session.StepAsync(kill).ConfigureAwait(false);
                }
                catch (CollectiveException e)
                {
                    // A peer vanished or a collective timed out: the coordinator starts a new generation.
                    owner._log.LogWarning("step {Step} failed: {Problem}; reporting and rejoining", session.Step, e.Message);
                    return owner.AfterFailureReport(await owner._client.ReportFailureAsync(
                        new FailureReport(owner._options.WorkerId, join.Generation, join.Rank, FailedCollective(e)), kill).ConfigureAwait(false));
                }
                catch (Exception e) when (MemoryWatch.IsOutOfMemory(e))
                {
                    return await owner.OutOfMemoryAsync(join, _memory.Describe(e, session.Step, owner._spec.Data.BatchSize), kill).ConfigureAwait(false);
                }
                _memory.AfterStep();
                Record(step, clock.Elapsed);

                long heartbeat = Stopwatch.GetTimestamp();
                var reply = await Heartbeat(step, clock.Elapsed, kill).ConfigureAwait(false);
                FollowTheHeartbeatTimeout(reply);
                _throughput.Add(clock.Elapsed.TotalSeconds, step.Result.AllReduceSeconds, Stopwatch.GetElapsedTime(heartbeat).TotalSeconds, step.Rows * join.WorldSize);
                if (await Obey(reply, kill).ConfigureAwait(false) is { } outcome) return outcome;

                if (_checkpointAt == session.Step)
                {
                    bool ends = _generationEndsAtCheckpoint;
                    await PublishAsync(kill).ConfigureAwait(false);
                    if (ends && await AwaitGenerationEndAsync(kill).ConfigureAwait(false) is { } end) return end;
                }
            }
            return await FinishAsync(kill).ConfigureAwait(false);
        }

        /// <summary>What this process's remote data sets fetched since the last step's report (0 for a local data set).</summary>
        private long FetchedSinceLastStep()
        {
            long total = RemoteDataSet.ProcessFetchedBytes, since = total - owner._dataFetchedReported;
            owner._dataFetchedReported = total;
            return since;
        }

        private void Record(SessionStep step, TimeSpan elapsed)
        {
            var r = step.Result;
            owner._audit?.Record(join.Generation, join.Rank, step);
            if (r.Skipped) owner._metrics.RecordSkippedStep();
            owner._metrics.RecordStep(new StepReport
            {
                // Steps completed, as heartbeats, checkpoints and max_steps count them (r.Step is the 0-based index).
                Step = session.Step,
                Duration = elapsed,
                DataWait = TimeSpan.FromSeconds(step.DataWaitSeconds),
                DataFetchedBytes = FetchedSinceLastStep(),
                AllReduce = TimeSpan.FromSeconds(r.AllReduceSeconds),
                GradNorm = double.IsFinite(r.GradNorm) ? r.GradNorm : null,
                LearningRate = r.LearningRate,
                Samples = step.Consumed.ToDictionary(c => c.Stream, c => (long)c.Rows),
                Tokens = r.Tokens,
                TaskLosses = r.Tasks.Where(t => t.Status == TaskOutcome.Ok).ToDictionary(t => t.Task, t => t.Loss),
                TaskWeights = r.Tasks.ToDictionary(t => t.Task, t => t.Weight),
                ModalityWeights = r.ModalityWeights,
                SkippedSamples = step.Consumed.SelectMany(c => c.Skipped.Select(reason => (c.Stream, Reason: SkipReasonLabels.For(reason))))
                    .GroupBy(x => x).ToDictionary(g => g.Key, g => (long)g.Count()),
            });
            int skipped = step.Consumed.Sum(c => c.Skipped.Count);
            if (skipped > 0)
                owner._log.LogWarning("step {Step}: skipped {Count} bad samples ({Reasons})", r.Step, skipped,
                    string.Join(", ", step.Consumed.SelectMany(c => c.Skipped).GroupBy(x => x).Select(g => $"{g.Key} ×{g.Count()}")));
            if (r.Step % owner._spec.Job.LogEvery == 0 || r.Skipped)
            {
                owner._log.LogInformation("step {Step} {Summary} grad {Grad:F3} lr {Lr:G3} {Ms:F0} ms (data {Data:F0} ms){Skipped}",
                    r.Step, r.Summary, r.GradNorm, r.LearningRate, elapsed.TotalMilliseconds, step.DataWaitSeconds * 1000,
                    r.Skipped ? " SKIPPED (non-finite)" : "");
            }
        }

        private Task<OrderReply> Heartbeat(SessionStep step, TimeSpan elapsed, CancellationToken kill) =>
            owner._client.HeartbeatAsync(new HeartbeatRequest(owner._options.WorkerId, join.Generation, join.Rank, session.Step,
                step.Result.Tasks.Where(t => t.Status == TaskOutcome.Ok).ToDictionary(t => t.Task, t => t.Loss),
                elapsed.TotalSeconds, step.DataWaitSeconds, step.Result.AllReduceSeconds, owner._metricsUrl), kill);

        /// <summary>A heartbeat of the step this rank is at, with no step time: it is alive, but no step has ended since the last one.</summary>
        private Task<OrderReply> AliveAsync(CancellationToken cancel) =>
            owner._client.HeartbeatAsync(new HeartbeatRequest(owner._options.WorkerId, join.Generation, join.Rank, session.Step), cancel);

        /// <summary>
        /// Collectives wait as long as the coordinator waits for a heartbeat (derived from the job's step times), not
        /// a fixed time: a peer frozen mid-step then fails its peers' collective about when the coordinator gives up on
        /// it, instead of stalling them for the start-up timeout (two minutes of a step of 0.3 s, measured by SIGSTOP).
        /// Two heartbeat intervals and two seconds more (the coordinator sweeps once a second), so that the coordinator
        /// evicts the frozen peer, named, before the ranks waiting on it report a failed collective: a report names no
        /// one, and the next generation would wait out its rendezvous deadline for the frozen rank too.
        /// </summary>
        private void FollowTheHeartbeatTimeout(OrderReply reply)
        {
            if (reply.HeartbeatTimeoutSeconds > 0)
                group.Timeout = TimeSpan.FromSeconds(reply.HeartbeatTimeoutSeconds + 2 * reply.HeartbeatIntervalSeconds + 2);
        }

        /// <summary>Acts on a reply; returns an outcome when this generation is over for this worker.</summary>
        private async Task<Outcome?> Obey(OrderReply reply, CancellationToken kill)
        {
            switch (reply.Order)
            {
                case WorkerOrder.Stop:
                    owner._log.LogInformation("coordinator says stop (job {State}{Reason})", reply.JobState, reply.Reason is null ? "" : ": " + reply.Reason);
                    await publisher.DrainAsync(Grace).ConfigureAwait(false);
                    return Ended(reply.JobState);
                case WorkerOrder.Rejoin:
                    owner._log.LogWarning("generation {Old} is over (now {New}){Reason}: rejoining", join.Generation, reply.Generation, reply.Reason is null ? "" : ": " + reply.Reason);
                    return Outcome.Rejoin;
                case WorkerOrder.Checkpoint when reply.CheckpointStep is { } at && at > _lastPublished:
                    if (at < session.Step) owner._log.LogWarning("checkpoint ordered at step {At} but this rank is already at {Step}; skipping it", at, session.Step);
                    else (_checkpointAt, _generationEndsAtCheckpoint) = (at, reply.GenerationEndsAtCheckpoint);
                    break;
            }
            return null;
        }

        /// <summary>
        /// SIGTERM: this worker leaves the job after a checkpoint two steps ahead, so that every rank hears of the order (on its
        /// next heartbeat) before reaching that step. The others go on without it; when they are all leaving too (Ctrl+C on
        /// `cmm train`, a deleted Job, a reclaim of every node) the job stops there until a worker joins again.
        /// </summary>
        private async Task OrderLeavingCheckpointAsync(CancellationToken kill)
        {
            CheckpointOrderView order;
            try
            {
                order = await owner._client.OrderCheckpointAsync(
                    new CheckpointOrderRequest(join.Generation, session.Step + 2, "preempted (SIGTERM)", Leaving: owner._options.WorkerId), kill).ConfigureAwait(false);
            }
            catch (CoordinatorException e) when (e.Status == System.Net.HttpStatusCode.Conflict && !e.MustRejoin)
            {
                // Another checkpoint is being saved (this rank already voted for it): ask again on the next step.
                owner._log.LogWarning("SIGTERM: the checkpoint could not be ordered yet ({Problem}); asking again after the next step", e.Message);
                return;
            }
            _preemptionOrdered = true;
            _checkpointAt = order.Step;
            // An order at the last step is the final checkpoint: nobody leaves it, the job completes there.
            _leaving = _generationEndsAtCheckpoint = order.Leaving.Contains(owner._options.WorkerId);
            owner._log.LogWarning(_generationEndsAtCheckpoint
                ? "SIGTERM: checkpoint ordered at step {Step}; this worker leaves the job once it commits (grace {Grace}s)"
                : "SIGTERM: checkpoint ordered at step {Step}, the job's last; exiting once it completes (grace {Grace}s)", order.Step, Grace.TotalSeconds);
        }

        private async Task PublishAsync(CancellationToken kill)
        {
            long started = Stopwatch.GetTimestamp();
            var position = JsonSerializer.SerializeToElement(session.Positions);
            await publisher.PublishAsync(session.Snapshot(), join.Generation, join.Rank, owner._options.WorkerId, configHash, position, kill).ConfigureAwait(false);
            owner._metrics.RecordCheckpointStall(Stopwatch.GetElapsedTime(started));
            _lastPublished = session.Step;
            _checkpointAt = null;
        }

        /// <summary>
        /// After a checkpoint that ends the generation: train no further (a leaver takes no part in the next step's
        /// collectives) and keep heartbeating until the coordinator says how the generation ends: rejoin without the leavers
        /// and with the newcomers, or stop (until a worker joins) when every worker left. A leaver is no survivor, so the coordinator answers it
        /// "stale". Null when the checkpoint failed: nobody left, every rank trains on, and a leaver asks again.
        /// </summary>
        private async Task<Outcome?> AwaitGenerationEndAsync(CancellationToken kill)
        {
            var deadline = Stopwatch.StartNew();
            await publisher.DrainAsync(Grace).ConfigureAwait(false);
            while (deadline.Elapsed < Grace)
            {
                OrderReply reply;
                try
                {
                    reply = await AliveAsync(kill).ConfigureAwait(false);
                }
                catch (CoordinatorException e) when (e.MustRejoin && _leaving)
                {
                    return Left(e.CurrentGeneration);
                }
                if (reply.Order == WorkerOrder.Stop && _leaving && reply.JobState == JobState.Stopped)
                {
                    // Every worker left at this checkpoint. Maybe a whole-job stop (Ctrl+C, a deleted Job), maybe a spot
                    // reclaim of every node at once; only the second starts this worker again, and then it resumes the job.
                    owner._log.LogInformation("left the job after its checkpoint at step {Step} committed; every worker left, so the job stopped there, resumable; exiting {Code}: a worker started again resumes it",
                        _lastPublished, WorkerExitCodes.Retry);
                    return Outcome.Left;
                }
                if (reply.Order == WorkerOrder.Stop)
                {
                    owner._log.LogInformation("waiting at the checkpoint of step {Step}: the job {State}{Reason}; exiting", _lastPublished, reply.JobState, reply.Reason is null ? "" : ": " + reply.Reason);
                    return Ended(reply.JobState);
                }
                if (reply.Order == WorkerOrder.Rejoin)
                {
                    if (_leaving) return Left(reply.Generation);
                    owner._log.LogInformation("checkpoint at step {Step} committed; generation {Old} is over ({Reason}): rejoining", _lastPublished, join.Generation, reply.Reason);
                    return Outcome.Rejoin;
                }
                if (reply.OpenCheckpointStep != _lastPublished && (reply.LastCommittedStep ?? -1) < _lastPublished)
                {
                    // Neither open nor committed: it failed (a rank could not save its part, or it timed out), and nobody left.
                    owner._log.LogWarning("the checkpoint at step {Step} did not commit (`cmm status` says why); training on{Again}", _lastPublished,
                        _leaving ? ", and asking to leave again at the next step" : "");
                    _preemptionOrdered = _leaving = false;
                    return null;
                }
                await Task.Delay(TimeSpan.FromSeconds(0.5), kill).ConfigureAwait(false);
            }
            if (_leaving)
            {
                owner._log.LogWarning("the checkpoint at step {Step} did not commit within the grace of {Grace}s; leaving without it: the job resumes from its last committed checkpoint", _lastPublished, Grace.TotalSeconds);
                return Outcome.Left;
            }
            owner._log.LogWarning("the checkpoint at step {Step}, where the ranks were to regroup, did not commit within {Grace}s; training on", _lastPublished, Grace.TotalSeconds);
            return null;
        }

        private Outcome Left(long? generation)
        {
            owner._log.LogInformation("left the job after its checkpoint at step {Step} committed; the job goes on in generation {Generation}; exiting {Code} so that the supervisor starts this worker again (it joins, and the job grows back)",
                _lastPublished, generation?.ToString(CultureInfo.InvariantCulture) ?? "?", WorkerExitCodes.Retry);
            return Outcome.Left;
        }

        /// <summary>
        /// Orders the final checkpoint. Another order with votes (e.g. a periodic one other ranks are still
        /// saving) refuses it until that commits, so retry briefly; a job without its final checkpoint still
        /// completes, resumable from the last committed one.
        /// </summary>
        private async Task<bool> OrderFinalCheckpointAsync(CancellationToken kill)
        {
            for (int attempt = 1; ; attempt++)
            {
                try
                {
                    await owner._client.OrderCheckpointAsync(new CheckpointOrderRequest(join.Generation, session.Step, "final"), kill).ConfigureAwait(false);
                    return true;
                }
                catch (CoordinatorException e) when (e.Status == System.Net.HttpStatusCode.Conflict && !e.MustRejoin && attempt < 20)
                {
                    await Task.Delay(TimeSpan.FromSeconds(0.5), kill).ConfigureAwait(false);
                }
                catch (CoordinatorException e) when (!e.MustRejoin && !e.IsUnauthorized)
                {
                    owner._log.LogError("the final checkpoint at step {Step} could not be ordered ({Problem}); the job stays resumable from its last committed checkpoint", session.Step, e.Message);
                    return false;
                }
            }
        }

        /// <summary>
        /// The last step: save it, then report completion. The coordinator completes the job only once the final checkpoint
        /// has committed: while other ranks are still saving their parts it says wait (heartbeats keep this rank alive
        /// meanwhile and let an order that outlives the checkpoint timeout expire); without it, it ends the job Failed.
        /// </summary>
        private async Task<Outcome> FinishAsync(CancellationToken kill)
        {
            if (_lastPublished != session.Step && await OrderFinalCheckpointAsync(kill).ConfigureAwait(false))
                await PublishAsync(kill).ConfigureAwait(false);
            await publisher.DrainAsync(Grace).ConfigureAwait(false);
            var report = new CompletionReport(owner._options.WorkerId, join.Generation, join.Rank, session.Step);
            OrderReply reply;
            while ((reply = await owner._client.CompleteAsync(report, kill).ConfigureAwait(false)).Order == WorkerOrder.None)
            {
                if ((await AliveAsync(kill).ConfigureAwait(false)).Order == WorkerOrder.Rejoin) return Outcome.Rejoin;
                await Task.Delay(TimeSpan.FromSeconds(0.5), kill).ConfigureAwait(false);
            }
            if (reply.JobState == JobState.Completed)
                owner._log.LogInformation("training complete at step {Step}; {Throughput}", session.Step, _throughput.Summary(join.WorldSize));
            else
                owner._log.LogError("training reached step {Step}, but the job ended {State}: {Reason}", session.Step, reply.JobState, reply.Reason);
            return Ended(reply.JobState);
        }
    }
}
