using System.Text.Json;
using CommerceMM.Coordinator.Contracts;
using CommerceMM.Coordinator.Entities.Abstractions;
using CommerceMM.Storage.Blobs;

namespace CommerceMM.Coordinator.Entities.Jobs;

internal sealed class JobEntity : PersistentEntity<JobSnapshot>, IJobEntity
{
    /// <summary>Generations start at 1 so that 0 can never be mistaken for a real one by a worker that has not joined.</summary>
    public const long FirstGeneration = 1;

    private readonly TimeProvider _time;
    private readonly JobSpec _spec;

    public JobEntity(JobSpec spec, IBlobStore store, TimeProvider time)
        : base(spec.Name, store, "job", new JobSnapshot(spec, JobState.Pending, null, FirstGeneration, 0, time.GetUtcNow()))
    {
        _spec = spec;
        _time = time;
    }

    protected override async Task OnActivatedAsync(CancellationToken cancellationToken)
    {
        // A restarted coordinator keeps state and generation, but takes the spec it was started with (an operator may
        // have changed, say, the worker count); the first write records it.
        // Compared as JSON: the spec's opaque Config is a JsonElement, which has no value equality.
        bool changed = false;
        if (!StateExists || JsonSerializer.Serialize(State.Spec, CoordinatorJson.Options) != JsonSerializer.Serialize(_spec, CoordinatorJson.Options))
        {
            State = State with { Spec = _spec };
            changed = true;
        }
        // Starting a coordinator for a job that ended is a new launch: "the next launch resumes with no flags".
        // A preempted (Stopped) or Failed job reopens in a new generation and its workers restore the last
        // committed checkpoint; a Completed one reopens too, and its workers find nothing left to train.
        if (StateExists && State.HasEnded)
        {
            State = State with
            {
                State = JobState.Pending, Generation = State.Generation + 1, UpdatedAt = _time.GetUtcNow(),
                Reason = $"relaunched after: {State.State}{(State.Reason is null ? "" : $" ({State.Reason})")}",
            };
            changed = true;
        }
        if (changed) await SaveAsync(cancellationToken).ConfigureAwait(false);
    }

    public Task<JobSnapshot> GetAsync(CancellationToken cancellationToken = default) =>
        TurnAsync(() => Task.FromResult(State), cancellationToken);

    public Task<EntityResult<JobSnapshot>> AdvanceGenerationAsync(long fromGeneration, string reason, CancellationToken cancellationToken = default) =>
        TurnAsync(
            async () =>
            {
                if (State.HasEnded || State.Generation > fromGeneration)
                {
                    return EntityResult<JobSnapshot>.Ok(State);
                }

                if (State.Generation < fromGeneration)
                {
                    return EntityResult<JobSnapshot>.Stale(State.Generation, $"generation {fromGeneration} is newer than the job's ({State.Generation})");
                }

                int restarts = State.Restarts + 1;
                State = restarts > State.Spec.MaxRestarts
                    ? State with { State = JobState.Failed, Reason = $"gave up after {State.Spec.MaxRestarts} restarts; last: {reason}", Restarts = restarts, UpdatedAt = _time.GetUtcNow() }
                    : State with { Generation = fromGeneration + 1, Reason = reason, Restarts = restarts, UpdatedAt = _time.GetUtcNow() };
                return await SaveAsync(cancellationToken).ConfigureAwait(false) ? State : EntityResult<JobSnapshot>.Conflict(ConflictMessage);
            },
            cancellationToken);

    public Task<EntityResult<JobSnapshot>> MarkRunningAsync(long generation, CancellationToken cancellationToken = default) =>
        TurnAsync(
            async () =>
            {
                if (generation != State.Generation)
                {
                    return EntityResult<JobSnapshot>.Stale(State.Generation, $"generation {generation} is not the job's current generation {State.Generation}");
                }

                if (State.State == JobState.Pending)
                {
                    State = State with { State = JobState.Running, UpdatedAt = _time.GetUtcNow() };
                    if (!await SaveAsync(cancellationToken).ConfigureAwait(false))
                    {
                        return EntityResult<JobSnapshot>.Conflict(ConflictMessage);
                    }
                }

                return State;
            },
            cancellationToken);

    public Task<EntityResult<JobSnapshot>> EndAsync(JobState state, string reason, CancellationToken cancellationToken = default) =>
        TurnAsync(
            async () =>
            {
                if (state is JobState.Pending or JobState.Running)
                {
                    return EntityResult<JobSnapshot>.Invalid("state", $"'{state}' is not an end state (use Completed, Failed or Stopped)");
                }

                if (State.HasEnded)
                {
                    return EntityResult<JobSnapshot>.Ok(State); // first ending wins: a late 'stop' must not turn Completed into Stopped
                }

                State = State with { State = state, Reason = reason, UpdatedAt = _time.GetUtcNow() };
                return await SaveAsync(cancellationToken).ConfigureAwait(false) ? State : EntityResult<JobSnapshot>.Conflict(ConflictMessage);
            },
            cancellationToken);
}
