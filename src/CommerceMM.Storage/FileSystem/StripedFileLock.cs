namespace CommerceMM.Storage.FileSystem;

/// <summary>
/// Mutual exclusion per key, within this process and across processes sharing the same root: keys hash onto a fixed
/// set of lock files (so lock files never pile up and are never deleted, which would race), each guarded by an
/// in-process semaphore (so threads queue without polling) and an exclusive <c>flock</c> (so processes exclude each other).
/// </summary>
internal sealed class StripedFileLock
{
    /// <summary>Number of stripes: enough that unrelated keys rarely wait on each other; the lock is held only for a rename.</summary>
    public const int StripeCount = 64;

    /// <summary>How long to wait before asking the kernel again when another process holds the stripe.</summary>
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(2);

    /// <summary>Folder holding one lock file per stripe.</summary>
    private readonly string _directory;

    /// <summary>In-process gate per stripe; the flock alone would make threads of one process poll each other.</summary>
    private readonly SemaphoreSlim[] _gates;

    private readonly TimeProvider _timeProvider;

    public StripedFileLock(string directory, TimeProvider timeProvider)
    {
        _directory = directory;
        _timeProvider = timeProvider;
        _gates = new SemaphoreSlim[StripeCount];
        for (int i = 0; i < StripeCount; i++)
        {
            _gates[i] = new SemaphoreSlim(1, 1);
        }

        Directory.CreateDirectory(directory);
    }

    /// <summary>Waits until this process and no other holds <paramref name="key"/>'s stripe; dispose the result to release it.</summary>
    public async Task<IDisposable> AcquireAsync(string key, CancellationToken cancellationToken)
    {
        int stripe = Stripe(key);
        SemaphoreSlim gate = _gates[stripe];
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        string path = Path.Combine(_directory, $"{stripe:x2}.lock");
        int fd = -1;
        try
        {
            fd = Posix.OpenLockFile(path);
            while (!Posix.TryLockExclusive(fd, path))
            {
                await Task.Delay(PollInterval, _timeProvider, cancellationToken).ConfigureAwait(false);
            }

            return new Releaser(gate, fd);
        }
        catch
        {
            if (fd >= 0)
            {
                Posix.CloseFd(fd);
            }

            gate.Release();
            throw;
        }
    }

    /// <summary>FNV-1a over the key: stable across processes, unlike <see cref="string.GetHashCode()"/>.</summary>
    internal static int Stripe(string key)
    {
        uint hash = 2166136261;
        foreach (char c in key)
        {
            hash = (hash ^ c) * 16777619;
        }

        return (int)(hash % StripeCount);
    }

    private sealed class Releaser(SemaphoreSlim gate, int fd) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                Posix.CloseFd(fd);
                gate.Release();
            }
        }
    }
}
