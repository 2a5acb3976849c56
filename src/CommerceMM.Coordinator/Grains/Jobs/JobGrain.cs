using System.Text.Json;
using CommerceMM.Coordinator.Contracts;
using CommerceMM.Coordinator.Grains;
using CommerceMM.Coordinator.Hosting;
using CommerceMM.Coordinator.Persistence;

namespace CommerceMM.Coordinator.Grains.Jobs;

internal sealed class JobGrain(
    [PersistentState(GrainStateKeys.Job, GrainStateKeys.Provider)] IPersistentState<JobSnapshot> state, CoordinatorOptions options)
    : PersistentGrain<JobSnapshot>(state, "job"), IJobGrain
{
    /// <summary>Generations start at 1 so that 0 can never be mistaken for a real one by a worker that has not joined.</summary>
    public const long FirstGeneration = 1;

    private readonly TimeProvider _time = options.TimeProvider;
    private JobSpec _spec = null!;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _spec = options.SpecOf(Key);
        if (!StateExists)
        {
            State = new JobSnapshot(_spec, JobState.Pending, null, FirstGeneration, 0, _time.GetUtcNow());
        }

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
            Reopen("relaunched");
            changed = true;
        }
        if (changed) await SaveAsync(cancellationToken);
    }

    /// <summary>A new generation of an ended job, Pending until its rendezvous completes; its workers restore the last commit.</summary>
    private void Reopen(string how) => State = State with
    {
        State = JobState.Pending, Generation = State.Generation + 1, UpdatedAt = _time.GetUtcNow(), ReopensWhenAWorkerJoins = false, StopRequested = false,
        Reason = $"{how} after: {State.State}{(State.Reason is null ? "" : $" ({State.Reason})")}",
    };

    public async Task<GrainResult<JobSnapshot>> ReopenAsync(string reason, CancellationToken cancellationToken = default)
    {
        if (State.State != JobState.Stopped || !State.ReopensWhenAWorkerJoins)
        {
            return State;
        }

        Reopen(reason);
        return await SaveAsync(cancellationToken) ? State : GrainResult<JobSnapshot>.Conflict(ConflictMessage);
    }

    public async Task<GrainResult<JobSnapshot>> RequestStopAsync(CancellationToken cancellationToken = default)
    {
        if (State.HasEnded || State.StopRequested)
        {
            return State;
        }

        State = State with { StopRequested = true, UpdatedAt = _time.GetUtcNow() };
        return await SaveAsync(cancellationToken) ? State : GrainResult<JobSnapshot>.Conflict(ConflictMessage);
    }

    public Task<JobSnapshot> GetAsync(CancellationToken cancellationToken = default) =>
        Task.FromResult(State);

    public async Task<GrainResult<JobSnapshot>> AdvanceGenerationAsync(long fromGeneration, string reason, bool restart, CancellationToken cancellationToken = default)
    {
        if (State.HasEnded || State.Generation > fromGeneration)
        {
            return GrainResult<JobSnapshot>.Ok(State);
        }

        if (State.Generation < fromGeneration)
        {
            return GrainResult<JobSnapshot>.Stale(State.Generation, $"generation {fromGeneration} is newer than the job's ({State.Generation})");
        }

        int restarts = State.Restarts + (restart ? 1 : 0);
        State = restarts > State.Spec.MaxRestarts
            ? State with { State = JobState.Failed, Reason = $"gave up after {State.Spec.MaxRestarts} restarts; last: {reason}", Restarts = restarts, UpdatedAt = _time.GetUtcNow() }
            : State with { Generation = fromGeneration + 1, Reason = reason, Restarts = restarts, UpdatedAt = _time.GetUtcNow() };
        return await SaveAsync(cancellationToken) ? State : GrainResult<JobSnapshot>.Conflict(ConflictMessage);
    }

    public async Task<GrainResult<JobSnapshot>> MarkRunningAsync(long generation, CancellationToken cancellationToken = default)
    {
        if (generation != State.Generation)
        {
            return GrainResult<JobSnapshot>.Stale(State.Generation, $"generation {generation} is not the job's current generation {State.Generation}");
        }

        if (State.State == JobState.Pending)
        {
            State = State with { State = JobState.Running, UpdatedAt = _time.GetUtcNow() };
            if (!await SaveAsync(cancellationToken))
            {
                return GrainResult<JobSnapshot>.Conflict(ConflictMessage);
            }
        }

        return State;
    }

    public async Task<GrainResult<JobSnapshot>> EndAsync(JobState state, string reason, bool reopensWhenAWorkerJoins = false, CancellationToken cancellationToken = default)
    {
        if (state is JobState.Pending or JobState.Running)
        {
            return GrainResult<JobSnapshot>.Invalid("state", $"'{state}' is not an end state (use Completed, Failed or Stopped)");
        }

        if (reopensWhenAWorkerJoins && state != JobState.Stopped)
        {
            return GrainResult<JobSnapshot>.Invalid("reopensWhenAWorkerJoins", $"only a Stopped job reopens when a worker joins, not a {state} one");
        }

        if (State.HasEnded)
        {
            return GrainResult<JobSnapshot>.Ok(State); // first ending wins: a late 'stop' must not turn Completed into Stopped
        }

        State = State with { State = state, Reason = reason, UpdatedAt = _time.GetUtcNow(), ReopensWhenAWorkerJoins = reopensWhenAWorkerJoins };
        return await SaveAsync(cancellationToken) ? State : GrainResult<JobSnapshot>.Conflict(ConflictMessage);
    }
}
