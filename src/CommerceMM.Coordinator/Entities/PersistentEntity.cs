using CommerceMM.Coordinator.Persistence;
using CommerceMM.Storage.Blobs;

namespace CommerceMM.Coordinator.Entities;

/// <summary>
/// Shared plumbing of an entity: one turn at a time, state read on the first turn (activation), written back with an
/// ETag when a turn changed it. After a lost ETag race the state is re-read on the next turn, so a second coordinator
/// writing the same blob is noticed rather than overwritten.
/// </summary>
internal abstract class PersistentEntity<TState>
    where TState : class
{
    private readonly TurnGate _gate = new();
    private readonly PersistentState<TState> _persisted;
    private bool _activated;

    protected PersistentEntity(string key, IBlobStore store, string kind, TState initial)
    {
        Key = key;
        _persisted = new PersistentState<TState>(store, EntityKeys.For(key, kind), initial);
    }

    public string Key { get; }

    /// <summary>Turns started so far (tests use it to see that calls were serialized, not dropped).</summary>
    internal long TurnsStarted => _gate.TurnsStarted;

    protected TState State
    {
        get => _persisted.State;
        set => _persisted.State = value;
    }

    /// <summary>True once the state has been stored at least once (false on a fresh job).</summary>
    protected bool StateExists => _persisted.Exists;

    protected Task<T> TurnAsync<T>(Func<Task<T>> body, CancellationToken cancellationToken) =>
        _gate.RunAsync(
            async () =>
            {
                if (!_activated)
                {
                    await _persisted.ReadAsync(cancellationToken).ConfigureAwait(false);
                    await OnActivatedAsync(cancellationToken).ConfigureAwait(false);
                    _activated = true;
                }

                return await body().ConfigureAwait(false);
            },
            cancellationToken);

    /// <summary>Runs once per activation, inside the first turn, after the stored state (if any) was read.</summary>
    protected virtual Task OnActivatedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Writes the state if it changed; on a lost race, forces a re-read on the next turn and returns false.</summary>
    protected async Task<bool> SaveAsync(CancellationToken cancellationToken)
    {
        StateWriteStatus status = await _persisted.WriteAsync(cancellationToken).ConfigureAwait(false);
        if (status == StateWriteStatus.Conflict)
        {
            _activated = false;
            return false;
        }

        return true;
    }

    protected string ConflictMessage => $"the state at '{_persisted.Key}' was changed by another writer (ETag mismatch); nothing was written, retry";
}
