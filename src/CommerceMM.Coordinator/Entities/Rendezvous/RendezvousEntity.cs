using CommerceMM.Coordinator.Contracts;
using CommerceMM.Coordinator.Entities.Abstractions;

namespace CommerceMM.Coordinator.Entities.Rendezvous;

/// <summary>
/// The rendezvous keys of one job, in memory only: they matter only while the ranks of a generation connect. If the
/// coordinator restarts mid-connect, that connect times out, the ranks report a failed collective and meet again in a
/// new generation, as after any other failure. Not a turn-based entity: a read that waits for a key must not hold up
/// the write that sets it, so a lock guards the maps and waiting happens outside it.
/// </summary>
internal sealed class RendezvousEntity(string key) : IRendezvousEntity
{
    private readonly Lock _lock = new();
    private long _generation;
    private GenerationKeys _keys = new();

    public string Key { get; } = key;

    public long Generation
    {
        get
        {
            lock (_lock)
            {
                return _generation;
            }
        }
    }

    /// <summary>Keys set or waited for in the current generation (tests check that a bump drops them).</summary>
    internal int KeyCount
    {
        get
        {
            lock (_lock)
            {
                return _keys.Count;
            }
        }
    }

    public void OpenGeneration(long generation)
    {
        GenerationKeys dropped;
        lock (_lock)
        {
            if (generation <= _generation)
            {
                return;
            }

            _generation = generation;
            dropped = _keys;
            _keys = new GenerationKeys();
        }

        // Wake the old generation's readers: they re-check, find the generation moved on, and are answered stale.
        foreach (TaskCompletionSource waiter in dropped.Waiting.Values)
        {
            waiter.TrySetResult();
        }
    }

    public EntityResult<bool> Set(long generation, string key, byte[] value)
    {
        TaskCompletionSource? waiter;
        lock (_lock)
        {
            if (Fence<bool>(generation) is { } stale)
            {
                return stale;
            }

            byte[]? old = _keys.Values.GetValueOrDefault(key);
            bool newKey = old is null && !_keys.Waiting.ContainsKey(key);
            if (newKey && _keys.Count >= RendezvousLimits.MaxKeysPerGeneration)
            {
                return TooManyKeys<bool>(generation);
            }

            long bytes = _keys.Bytes - (old?.Length ?? 0) + value.Length;
            if (bytes > RendezvousLimits.MaxBytesPerGeneration)
            {
                return EntityResult<bool>.Conflict(
                    $"the rendezvous of generation {generation} already holds {_keys.Bytes} bytes; setting '{key}' ({value.Length} bytes) would pass the limit of {RendezvousLimits.MaxBytesPerGeneration}");
            }

            _keys.Values[key] = value;
            _keys.Bytes = bytes;
            _keys.Waiting.Remove(key, out waiter);
        }

        waiter?.TrySetResult();
        return true;
    }

    public async Task<EntityResult<RendezvousValue>> GetAsync(long generation, string key, TimeSpan wait, CancellationToken cancellationToken = default)
    {
        Task signal;
        lock (_lock)
        {
            EntityResult<RendezvousValue> now = Read(generation, key);
            if (!now.IsOk || now.Value!.Found || wait <= TimeSpan.Zero)
            {
                return now;
            }

            if (!_keys.Waiting.TryGetValue(key, out TaskCompletionSource? waiter))
            {
                if (_keys.Count >= RendezvousLimits.MaxKeysPerGeneration)
                {
                    return TooManyKeys<RendezvousValue>(generation);
                }

                // Continuations run off the setter's thread, so a Set never runs a reader's response inline.
                waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _keys.Waiting[key] = waiter;
            }

            signal = waiter.Task;
        }

        // The wait bounds how long one HTTP request stays open, a transport matter: it runs on the real clock even when
        // the coordinator's protocol clock is a test's manual one.
        try
        {
            await signal.WaitAsync(wait, TimeProvider.System, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // Not set yet: answered below as not found; the client polls again.
        }

        lock (_lock)
        {
            return Read(generation, key);
        }
    }

    /// <summary>The answer for the key now (found or not), or the stale refusal; call under the lock.</summary>
    private EntityResult<RendezvousValue> Read(long generation, string key) =>
        Fence<RendezvousValue>(generation) ?? new RendezvousValue(key, _keys.Values.TryGetValue(key, out byte[]? value), value);

    private EntityResult<T>? Fence<T>(long generation) =>
        generation < _generation
            ? EntityResult<T>.Stale(_generation, $"the rendezvous of generation {generation} is over: job '{Key}' is at generation {_generation}; join again")
            : generation > _generation
                ? EntityResult<T>.Stale(_generation, $"generation {generation} is newer than the coordinator's ({_generation}); join again")
                : null;

    private static EntityResult<T> TooManyKeys<T>(long generation) =>
        EntityResult<T>.Conflict($"the rendezvous of generation {generation} already holds the limit of {RendezvousLimits.MaxKeysPerGeneration} keys");

    /// <summary>One generation's keys: values set, and readers waiting for keys not set yet (a key is in one map or the other).</summary>
    private sealed class GenerationKeys
    {
        public Dictionary<string, byte[]> Values { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, TaskCompletionSource> Waiting { get; } = new(StringComparer.Ordinal);

        public long Bytes { get; set; }

        public int Count => Values.Count + Waiting.Count;
    }
}
