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
public sealed record MemberView(
    string WorkerId,
    int? Rank,
    MemberState State,
    long? LastStep,
    double? HeartbeatAgeSeconds,
    double? LastStepSeconds,
    double? LastDataWaitSeconds,
    IReadOnlyDictionary<string, double>? Losses);

/// <summary>GET <c>/v1/jobs/{job}/status</c>.</summary>
/// <param name="StateReason">Why the job is in its state (e.g. the last generation bump or failure).</param>
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
    CheckpointOrderView? PendingCheckpoint);

/// <summary>GET <c>/healthz</c>.</summary>
public sealed record HealthView(string Status);
