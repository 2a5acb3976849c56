using CommerceMM.Coordinator.Contracts;

namespace CommerceMM.Coordinator.Grains;

/// <summary>
/// The job, keyed by job name: its spec, its state machine (Pending → Running → Completed | Failed | Stopped) and the
/// generation number that fences every order and write. Calls no other grain.
/// </summary>
[Alias("cmm.job")]
public interface IJobGrain : IGrainWithStringKey
{
    /// <summary>The job as it stands.</summary>
    Task<JobSnapshot> GetAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Moves the generation past <paramref name="fromGeneration"/> (idempotent: when it already moved, returns the
    /// current one). A <paramref name="restart"/> (a worker lost or failed) counts, and fails the job once
    /// <see cref="JobSpec.MaxRestarts"/> is exceeded; a planned change (a worker left after a checkpoint, or one joined) does not.
    /// </summary>
    Task<GrainResult<JobSnapshot>> AdvanceGenerationAsync(long fromGeneration, string reason, bool restart, CancellationToken cancellationToken = default);

    /// <summary>A rendezvous of <paramref name="generation"/> completed: Pending becomes Running.</summary>
    Task<GrainResult<JobSnapshot>> MarkRunningAsync(long generation, CancellationToken cancellationToken = default);

    /// <summary>Ends the job in <paramref name="state"/> (Completed, Failed or Stopped); a job that already ended keeps its state.</summary>
    /// <param name="reopensWhenAWorkerJoins">
    /// Only for Stopped: the stop was every worker leaving (preempted, or its Job deleted), not a request to stop, so the next
    /// worker to join reopens the job (<see cref="ReopenAsync"/>).
    /// </param>
    Task<GrainResult<JobSnapshot>> EndAsync(JobState state, string reason, bool reopensWhenAWorkerJoins = false, CancellationToken cancellationToken = default);

    /// <summary>
    /// Asks the running job to stop at a checkpoint that every rank saves (the checkpoint grain orders it on the next
    /// heartbeat); a job that ended is returned as it stands.
    /// </summary>
    Task<GrainResult<JobSnapshot>> RequestStopAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// A job that stopped because every worker left goes on in a new generation (Pending until its rendezvous completes);
    /// any other job is returned as it stands.
    /// </summary>
    Task<GrainResult<JobSnapshot>> ReopenAsync(string reason, CancellationToken cancellationToken = default);
}

/// <summary>The job grain's state (also what it persists).</summary>
/// <param name="Restarts">Generation bumps so far for lost or failed workers (departures and growth are not counted).</param>
/// <param name="ReopensWhenAWorkerJoins">Stopped because every worker left: the next worker to join resumes it.</param>
/// <param name="StopRequested">Asked to stop (<c>cmm stop</c>): it stops at the next checkpoint that commits.</param>
[Immutable]
public sealed record JobSnapshot(
    JobSpec Spec, JobState State, string? Reason, long Generation, int Restarts, DateTimeOffset UpdatedAt, bool ReopensWhenAWorkerJoins = false, bool StopRequested = false)
{
    public bool HasEnded => State is JobState.Completed or JobState.Failed or JobState.Stopped;
}
