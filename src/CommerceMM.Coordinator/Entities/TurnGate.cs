namespace CommerceMM.Coordinator.Entities;

/// <summary>
/// One turn at a time for one entity (Orleans' default, non-reentrant grain scheduling). A turn runs to completion,
/// awaits included, before the next starts, so entity code reads and writes its state without locks.
/// </summary>
/// <remarks>
/// Entities may call other entities inside a turn, but calls must form a DAG (membership → job, membership → ledger,
/// checkpoints → ledger, checkpoints → job); a cycle would deadlock exactly as a non-reentrant grain cycle does.
/// </remarks>
internal sealed class TurnGate
{
    private readonly SemaphoreSlim _semaphore = new(1, 1);

    /// <summary>Number of turns started; for tests that check serialization.</summary>
    public long TurnsStarted => Interlocked.Read(ref _turnsStarted);

    private long _turnsStarted;

    public async Task<T> RunAsync<T>(Func<Task<T>> turn, CancellationToken cancellationToken = default)
    {
        await _semaphore.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            Interlocked.Increment(ref _turnsStarted);
            return await turn().ConfigureAwait(false);
        }
        finally
        {
            _semaphore.Release();
        }
    }
}
