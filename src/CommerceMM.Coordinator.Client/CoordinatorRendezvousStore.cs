using CommerceMM.Collectives;
using CommerceMM.Coordinator.Contracts;

namespace CommerceMM.Coordinator.Client;

/// <summary>
/// The rendezvous store of one job generation, kept by the coordinator (off the training nodes) and reached through
/// its authenticated gateway grain. Keys are the generation's own: after a new generation the coordinator refuses this store's
/// reads and writes with a <see cref="CoordinatorException"/> whose <see cref="CoordinatorException.MustRejoin"/> is true.
/// </summary>
/// <remarks>
/// Synchronous because <see cref="IRendezvousStore"/> is (the collectives call it while connecting); each call blocks
/// on the client's async requests, which is safe in the worker, a process without a synchronization context.
/// </remarks>
public sealed class CoordinatorRendezvousStore : IRendezvousStore
{
    private readonly CoordinatorClient _client;
    private readonly CancellationToken _cancellationToken;

    /// <param name="client">The worker's coordinator client (not owned: this store never disposes it).</param>
    /// <param name="generation">The generation from the join whose ranks meet here.</param>
    /// <param name="cancellationToken">Abandons a waiting <see cref="Get"/> (the worker is being killed).</param>
    public CoordinatorRendezvousStore(CoordinatorClient client, long generation, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentOutOfRangeException.ThrowIfLessThan(generation, 1);
        _client = client;
        Generation = generation;
        _cancellationToken = cancellationToken;
    }

    public long Generation { get; }

    public void Set(string key, byte[] value) =>
        _client.SetRendezvousAsync(Generation, key, value, _cancellationToken).GetAwaiter().GetResult();

    /// <summary>
    /// Long-polls the coordinator until <paramref name="key"/> is set. A wait longer than one poll (the server caps each)
    /// polls again; <see cref="Timeout.InfiniteTimeSpan"/> waits for ever.
    /// </summary>
    /// <exception cref="TimeoutException">The key was not set within <paramref name="timeout"/>; the message names the key and the coordinator.</exception>
    public byte[] Get(string key, TimeSpan timeout)
    {
        if (timeout < TimeSpan.Zero && timeout != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "must be >= 0 or Timeout.InfiniteTimeSpan");
        }

        TimeProvider time = _client.TimeProvider;
        long started = time.GetTimestamp();
        while (true)
        {
            TimeSpan left = timeout == Timeout.InfiniteTimeSpan ? TimeSpan.MaxValue : timeout - time.GetElapsedTime(started);
            RendezvousValue answer = _client.GetRendezvousAsync(Generation, key, left > TimeSpan.Zero ? left : TimeSpan.Zero, _cancellationToken).GetAwaiter().GetResult();
            if (answer.Found)
            {
                return answer.Value ?? [];
            }

            if (timeout != Timeout.InfiniteTimeSpan && time.GetElapsedTime(started) >= timeout)
            {
                throw new TimeoutException(
                    $"rendezvous key '{key}' of job '{_client.Job}' generation {Generation} was not set at coordinator {_client.Gateways} within {timeout.TotalSeconds:0.###} s");
            }
        }
    }
}
