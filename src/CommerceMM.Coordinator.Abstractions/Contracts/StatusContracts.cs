namespace CommerceMM.Coordinator.Contracts;

public enum JobState
{
    Pending,
    Running,
    Completed,
    Failed,
    Stopped,
}

public enum MemberState
{
    /// <summary>Joined, waiting for the rendezvous to complete.</summary>
    Waiting,

    /// <summary>Has a rank in the current generation and its heartbeats are on time.</summary>
    Running,

    /// <summary>Has a rank but has not heartbeated in this generation yet (restoring, building the process group).</summary>
    Starting,
}

/// <summary>One worker as <c>cmm status</c> shows it.</summary>
/// <param name="Rank">Rank in the current generation; null while waiting.</param>
/// <param name="HeartbeatAgeSeconds">Seconds since the last heartbeat (or since the rank was assigned).</param>
/// <param name="StepTimeRatio">
/// The rank's median compute time per step over its peers' (1 = typical); null until it and a peer have enough steps.
/// </param>
/// <param name="Straggler">Whether the rank is flagged as persistently slower than its peers (also <c>cmm_straggler</c>).</param>
/// <param name="MetricsUrl">The worker's own <c>/metrics</c>, as its heartbeats report it; null when it serves none.</param>
[Immutable]
public sealed record MemberView(
    string WorkerId,
    int? Rank,
    MemberState State,
    long? LastStep,
    double? HeartbeatAgeSeconds,
    double? LastStepSeconds,
    double? LastDataWaitSeconds,
    IReadOnlyDictionary<string, double>? Losses,
    double? StepTimeRatio = null,
    bool Straggler = false,
    string? MetricsUrl = null);

/// <summary>GET <c>/v1/jobs/{job}/status</c>.</summary>
/// <param name="StateReason">Why the job is in its state (e.g. the last generation bump or failure).</param>
/// <param name="ControlSilo">The silo the job's membership grain runs on now; it changes when that silo fails.</param>
/// <param name="LastCheckpointFailure">Why the last checkpoint was not committed, or what was set aside; null once one commits.</param>
/// <param name="StopRequested">Asked to stop (<c>cmm stop</c>) and still running: it stops at the next checkpoint that commits.</param>
[Immutable]
public sealed record JobStatusView(
    string Job,
    JobState State,
    string? StateReason,
    long Generation,
    int Restarts,
    int WorldSize,
    bool RendezvousOpen,
    long? MaxSteps,
    double HeartbeatTimeoutSeconds,
    IReadOnlyList<MemberView> Members,
    CommittedCheckpointView? LastCommittedCheckpoint,
    CheckpointOrderView? PendingCheckpoint,
    string? ControlSilo = null,
    string? LastCheckpointFailure = null,
    bool StopRequested = false)
{
    public bool HasEnded => State is JobState.Completed or JobState.Failed or JobState.Stopped;
}

/// <summary>GET <c>/healthz</c>.</summary>
[Immutable]
public sealed record HealthView(string Status);
