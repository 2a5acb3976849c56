using Orleans.Storage;

namespace CommerceMM.Coordinator.Grains;

/// <summary>
/// A grain whose state lives in the job's blob store (<see cref="Persistence.BlobGrainStorage"/>), written back with
/// its ETag when a turn changed it. A write that loses an ETag race (another activation, say on a second silo, wrote
/// first) changes nothing, deactivates this activation and is answered as a Conflict; the next call activates afresh
/// and reads what the winner wrote.
/// </summary>
internal abstract class PersistentGrain<TState>(IPersistentState<TState> persisted, string stateName) : Grain
    where TState : class
{
    /// <summary>The job name: every grain of a job is keyed by it.</summary>
    protected string Key => this.GetPrimaryKeyString();

    protected TState State
    {
        get => persisted.State;
        set => persisted.State = value;
    }

    /// <summary>True once the state has been stored at least once (false on a fresh job).</summary>
    protected bool StateExists => persisted.RecordExists;

    /// <summary>Writes the state (the storage skips bytes it already holds); false after a lost ETag race.</summary>
    protected async Task<bool> SaveAsync(CancellationToken cancellationToken)
    {
        try
        {
            await persisted.WriteStateAsync(cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (InconsistentStateException)
        {
            DeactivateOnIdle();
            return false;
        }
    }

    protected string ConflictMessage =>
        $"the state at '{Persistence.GrainStateKeys.For(Key, stateName)}' was changed by another writer (ETag mismatch); nothing was written, retry";
}
