namespace CommerceMM.Storage.FileSystem;

/// <summary>
/// A name in a file store that one process at a time may own, such as "the job being trained from this store":
/// an exclusive <c>flock</c> on <c>ROOT/.cmm-store/owners/NAME.lock</c>, which the kernel releases when the owner exits
/// however it exits (kill -9 included), so a stale owner never blocks the next one.
/// </summary>
/// <remarks>
/// The owner's description sits beside the lock in <c>NAME.owner</c>, rewritten by each new owner, so a refused process
/// can say who holds the name. Like the store's own locks it works between processes of one host only.
/// </remarks>
public sealed class StoreOwnerLock : IDisposable
{
    private int _fd;

    private StoreOwnerLock(int fd) => _fd = fd;

    /// <summary>Takes <paramref name="name"/> for this process, recording <paramref name="owner"/>; null, with the current owner's description, when another holds it.</summary>
    /// <param name="store">the store whose root holds the lock</param>
    /// <param name="name">letters, digits, '-', '_', '.' and '=' (a job name qualifies)</param>
    /// <param name="owner">who takes it, for the message of whoever is refused next (a process id and start time)</param>
    /// <param name="currentOwner">the owner's description as recorded: this process's when taken, the other's when refused</param>
    public static StoreOwnerLock? TryTake(FileBlobStore store, string name, string owner, out string? currentOwner)
    {
        ArgumentNullException.ThrowIfNull(store);
        if (string.IsNullOrEmpty(name) || name.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '=')) || name.StartsWith('.'))
            throw new ArgumentException($"owner lock name '{name}' must be letters, digits, '-', '_', '.' or '=', not starting with '.'", nameof(name));
        string folder = Path.Combine(store.Root, Blobs.BlobKey.ReservedSegment, "owners");
        Directory.CreateDirectory(folder);
        string lockPath = Path.Combine(folder, name + ".lock"), ownerPath = Path.Combine(folder, name + ".owner");
        int fd = Posix.OpenLockFile(lockPath);
        if (!Posix.TryLockExclusive(fd, lockPath))
        {
            Posix.CloseFd(fd);
            currentOwner = File.Exists(ownerPath) ? File.ReadAllText(ownerPath).Trim() : null;
            return null;
        }
        File.WriteAllText(ownerPath, owner);
        currentOwner = owner;
        return new StoreOwnerLock(fd);
    }

    public void Dispose()
    {
        int fd = Interlocked.Exchange(ref _fd, -1);
        if (fd >= 0) Posix.CloseFd(fd);
    }
}
