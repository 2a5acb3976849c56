namespace CommerceMM.Coordinator.Contracts;

/// <summary>POST <c>/v1/jobs/{job}/heartbeat</c>: progress from one rank, every few seconds.</summary>
/// <param name="Losses">Per-task loss of the last step (task name → value).</param>
/// <param name="StepSeconds">Wall time of the last step; feeds the heartbeat timeout (a multiple of the p95).</param>
/// <param name="DataWaitSeconds">Time the last step waited for data.</param>
/// <param name="AllReduceSeconds">
/// Time the last step waited for the gradient all-reduce after its last backward pass (the buckets go out during
/// backward; this is the part not hidden behind it, waiting for slower peers included). With it the coordinator can tell a slow rank from the ranks
/// that wait for it (compute = step - data wait - all-reduce); 0 from a client that does not send it.
/// </param>
/// <param name="MetricsUrl">Where this worker serves its own <c>/metrics</c>, if it does; shown in status for scrape set-up.</param>
[Immutable]
public sealed record HeartbeatRequest(
    string WorkerId,
    long Generation,
    int Rank,
    long Step,
    IReadOnlyDictionary<string, double>? Losses = null,
    double StepSeconds = 0,
    double DataWaitSeconds = 0,
    double AllReduceSeconds = 0,
    string? MetricsUrl = null);

/// <summary>What the coordinator tells a worker to do next.</summary>
public enum WorkerOrder
{
    /// <summary>Keep training.</summary>
    None,

    /// <summary>Save a checkpoint when reaching <see cref="OrderReply.CheckpointStep"/> and vote with its files.</summary>
    Checkpoint,

    /// <summary>The job ended (stopped, completed or failed): exit.</summary>
    Stop,

    /// <summary>The generation moved on: drop the process group, join again, restore the last committed checkpoint.</summary>
    Rejoin,
}

/// <summary>The reply to a heartbeat or failure report: an order stamped with the generation it belongs to.</summary>
/// <param name="Generation">The coordinator's current generation (for Rejoin: the one to join).</param>
/// <param name="CheckpointStep">For <see cref="WorkerOrder.Checkpoint"/>: the step after which to save.</param>
/// <param name="JobState">The job's state, so a worker told to stop can say why.</param>
/// <param name="HeartbeatTimeoutSeconds">How long the coordinator waits for the next heartbeat before declaring this rank dead.</param>
/// <param name="GenerationEndsAtCheckpoint">
/// For <see cref="WorkerOrder.Checkpoint"/>: the ranks regroup once it commits (workers leave, or newcomers join), so the
/// generation ends there. Save, then train no further: wait for the next order (rejoin, or stop when every worker left).
/// </param>
/// <param name="OpenCheckpointStep">
/// The step of the generation's open checkpoint order, voted by this rank or not; null when none is open. A rank waiting at
/// a checkpoint that ends the generation sees from it, with <see cref="LastCommittedStep"/>, that the checkpoint failed.
/// </param>
[Immutable]
public sealed record OrderReply(
    WorkerOrder Order,
    long Generation,
    long? CheckpointStep,
    JobState JobState,
    long? LastCommittedStep,
    double HeartbeatIntervalSeconds,
    double HeartbeatTimeoutSeconds,
    string? Reason = null,
    bool GenerationEndsAtCheckpoint = false,
    long? OpenCheckpointStep = null);
