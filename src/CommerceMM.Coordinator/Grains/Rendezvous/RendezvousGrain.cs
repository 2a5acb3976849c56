using CommerceMM.Coordinator.Contracts;
using CommerceMM.Coordinator.Grains;

namespace CommerceMM.Coordinator.Grains.Rendezvous;

/// <summary>
/// The rendezvous keys of one job, in memory only: they matter only while the ranks of a generation connect. If the
/// silo holding them dies mid-connect, that connect times out, the ranks report a failed collective and meet again in a
/// new generation, as after any other failure. Reentrant: a read that waits for a key must not hold up the write that
/// sets it. Calls interleave only at awaits; the lock keeps the maps consistent for the readers woken off the grain's turn.
/// </summary>
[Orleans.Concurrency.Reentrant]
internal sealed class RendezvousGrain : Grain, IRendezvousGrain
{
    private readonly Lock _lock = new();
    private long _generation;
    private GenerationKeys _keys = new();

    private string Key => this.GetPrimaryKeyString();

    /// <summary>A fresh activation serves the job's generation (the job owns the number; membership moves it on from there).</summary>
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        JobSnapshot job = await GrainFactory.GetGrain<IJobGrain>(Key).GetAsync(cancellationToken);
        await OpenGenerationAsync(job.Generation);
    }

    public Task<long> GetGenerationAsync()
    {
        lock (_lock)
        {
            return Task.FromResult(_generation);
        }
    }

    public Task<int> CountKeysAsync()
    {
        lock (_lock)
        {
            return Task.FromResult(_keys.Count);
        }
    }

    public Task OpenGenerationAsync(long generation)
    {
        GenerationKeys dropped;
        lock (_lock)
        {
            if (generation <= _generation)
            {
                return Task.CompletedTask;
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

        return Task.CompletedTask;
    }

    public Task<GrainResult<bool>> SetAsync(long generation, string key, byte[] value) => Task.FromResult(Set(generation, key, value));

    private GrainResult<bool> Set(long generation, string key, byte[] value)
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
                return GrainResult<bool>.Conflict(
                    $"the rendezvous of generation {generation} already holds {_keys.Bytes} bytes; setting '{key}' ({value.Length} bytes) would pass the limit of {RendezvousLimits.MaxBytesPerGeneration}");
            }

            _keys.Values[key] = value;
            _keys.Bytes = bytes;
            _keys.Waiting.Remove(key, out waiter);
        }

        waiter?.TrySetResult();
        return true;
    }

    public async Task<GrainResult<RendezvousValue>> GetAsync(long generation, string key, TimeSpan wait, CancellationToken cancellationToken = default)
    {
        Task signal;
        lock (_lock)
        {
            GrainResult<RendezvousValue> now = Read(generation, key);
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

        // The wait bounds how long one call stays open, a transport matter: it runs on the real clock even when
        // the coordinator's protocol clock is a test's manual one.
        try
        {
            await signal.WaitAsync(wait, TimeProvider.System, cancellationToken);
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
    private GrainResult<RendezvousValue> Read(long generation, string key) =>
        Fence<RendezvousValue>(generation) ?? new RendezvousValue(key, _keys.Values.TryGetValue(key, out byte[]? value), value);

    private GrainResult<T>? Fence<T>(long generation) =>
        generation < _generation
            ? GrainResult<T>.Stale(_generation, $"the rendezvous of generation {generation} is over: job '{Key}' is at generation {_generation}; join again")
            : generation > _generation
                ? GrainResult<T>.Stale(_generation, $"generation {generation} is newer than the coordinator's ({_generation}); join again")
                : null;

    private static GrainResult<T> TooManyKeys<T>(long generation) =>
        GrainResult<T>.Conflict($"the rendezvous of generation {generation} already holds the limit of {RendezvousLimits.MaxKeysPerGeneration} keys");

    /// <summary>One generation's keys: values set, and readers waiting for keys not set yet (a key is in one map or the other).</summary>
    private sealed class GenerationKeys
    {
        public Dictionary<string, byte[]> Values { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, TaskCompletionSource> Waiting { get; } = new(StringComparer.Ordinal);

        public long Bytes { get; set; }

        public int Count => Values.Count + Waiting.Count;
    }
}
