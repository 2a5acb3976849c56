using CommerceMM.Coordinator.Contracts;

namespace CommerceMM.Coordinator.Entities.Abstractions;

/// <summary>
/// The job, keyed by job name: its spec, its state machine (Pending → Running → Completed | Failed | Stopped) and the
/// generation number that fences every order and write. Calls no other entity.
/// </summary>
public interface IJobEntity
{
    /// <summary>The job name.</summary>
    string Key { get; }

    /// <summary>The job as it stands.</summary>
    Task<JobSnapshot> GetAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Moves the generation past <paramref name="fromGeneration"/> (idempotent: when it already moved, returns the
    /// current one). Fails the job once <see cref="JobSpec.MaxRestarts"/> is exceeded.
    /// </summary>
    Task<EntityResult<JobSnapshot>> AdvanceGenerationAsync(long fromGeneration, string reason, CancellationToken cancellationToken = default);

    /// <summary>A rendezvous of <paramref name="generation"/> completed: Pending becomes Running.</summary>
    Task<EntityResult<JobSnapshot>> MarkRunningAsync(long generation, CancellationToken cancellationToken = default);

    /// <summary>Ends the job in <paramref name="state"/> (Completed, Failed or Stopped); a job that already ended keeps its state.</summary>
    Task<EntityResult<JobSnapshot>> EndAsync(JobState state, string reason, CancellationToken cancellationToken = default);
}

/// <summary>The job entity's state (also what it persists).</summary>
/// <param name="Restarts">Generation bumps so far.</param>
public sealed record JobSnapshot(JobSpec Spec, JobState State, string? Reason, long Generation, int Restarts, DateTimeOffset UpdatedAt)
{
    public bool HasEnded => State is JobState.Completed or JobState.Failed or JobState.Stopped;
}
