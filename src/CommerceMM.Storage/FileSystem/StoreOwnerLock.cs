using CommerceMM.Storage.Blobs;

namespace CommerceMM.Storage.FileSystem;

/// <summary>
/// A name in a file store that one process at a time may own, such as "the job being trained from this store":
/// an exclusive <c>flock</c> on <c>ROOT/.cmm-store/owners/NAME.lock</c>, which the kernel releases when the owner exits
/// however it exits (kill -9 included), so a stale owner never blocks the next one.
/// </summary>
/// <remarks>
/// The owner's description sits beside the lock in <c>NAME.owner</c> (readable by the owner's user only: it may hold a
/// credential), so that others can find the owner and a refused process can say who it is. Like the store's own locks
/// it works between processes of one host only.
/// </remarks>
public sealed class StoreOwnerLock : IStoreOwnerLock
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    private static readonly TimeSpan LookingGrace = TimeSpan.FromMilliseconds(50);

    private readonly string _lockPath, _ownerPath;
    private readonly bool _forgetOnRelease;
    private int _fd;

    private StoreOwnerLock(int fd, string lockPath, string ownerPath, bool forgetOnRelease) =>
        (_fd, _lockPath, _ownerPath, _forgetOnRelease) = (fd, lockPath, ownerPath, forgetOnRelease);

    /// <summary>Takes <paramref name="name"/> for this process, recording <paramref name="owner"/>; null, with the current owner's description, when another holds it.</summary>
    /// <param name="store">the store whose root holds the lock</param>
    /// <param name="name">letters, digits, '-', '_', '.' and '=' (a job name qualifies)</param>
    /// <param name="owner">who takes it, for whoever looks next</param>
    /// <param name="currentOwner">the owner's description as recorded: this process's when taken, the other's when refused</param>
    /// <param name="forgetOnRelease">delete the lock's files when this owner lets go: for a name nobody takes twice, which would otherwise pile up</param>
    public static StoreOwnerLock? TryTake(FileBlobStore store, string name, string owner, out string? currentOwner, bool forgetOnRelease = false)
    {
        var (lockPath, ownerPath) = Paths(store, name);
        Directory.CreateDirectory(Path.GetDirectoryName(lockPath)!);
        int fd = Posix.OpenLockFile(lockPath);
        if (!TryLockSoon(fd, lockPath))
        {
            Posix.CloseFd(fd);
            currentOwner = ReadOwner(ownerPath);
            return null;
        }
        var taken = new StoreOwnerLock(fd, lockPath, ownerPath, forgetOnRelease);
        taken.UpdateOwner(owner);
        currentOwner = owner;
        return taken;
    }

    /// <summary>The description of whoever holds <paramref name="name"/> now ("" when it has written none yet); null when nobody does.</summary>
    /// <remarks>It asks the kernel by taking the lock for an instant; a process taking it in that instant tries again a moment later.</remarks>
    public static string? FindOwner(FileBlobStore store, string name)
    {
        var (lockPath, ownerPath) = Paths(store, name);
        return File.Exists(lockPath) && IsHeld(lockPath) ? ReadOwner(ownerPath) ?? "" : null;
    }

    /// <summary>The names starting with <paramref name="prefix"/> held now, each with its owner's description ("" when it has none yet).</summary>
    public static IReadOnlyList<(string Name, string Owner)> FindOwners(FileBlobStore store, string prefix)
    {
        return LockFiles(store, prefix)
            .Select(path => Path.GetFileName(path)[..^".lock".Length])
            .Select(name => (Name: name, Owner: FindOwner(store, name)))
            .Where(found => found.Owner is not null)
            .Select(found => (found.Name, found.Owner!))
            .ToList();
    }

    /// <summary>
    /// Deletes the names starting with <paramref name="prefix"/> that nobody holds and whose lock is older than
    /// <paramref name="olderThan"/>: what a holder that forgets its name on release leaves when it is killed. The age keeps
    /// it off a name whose new holder has created the file and is about to lock it.
    /// </summary>
    /// <returns>how many names it deleted</returns>
    public static int PruneUnheld(FileBlobStore store, string prefix, TimeSpan olderThan)
    {
        int pruned = 0;
        foreach (string lockPath in LockFiles(store, prefix))
        {
            if (DateTime.UtcNow - File.GetLastWriteTimeUtc(lockPath) < olderThan) continue;
            int fd = Posix.OpenLockFile(lockPath);
            try
            {
                if (!Posix.TryLockExclusive(fd, lockPath)) continue;
                // Locked while the names go, as a forgetting holder deletes them.
                File.Delete(lockPath[..^".lock".Length] + ".owner");
                File.Delete(lockPath);
                pruned++;
            }
            finally
            {
                Posix.CloseFd(fd);
            }
        }
        return pruned;
    }

    /// <summary>Replaces the recorded description (written whole, then renamed into place: a reader never sees half of it).</summary>
    public void UpdateOwner(string owner)
    {
        string temp = $"{_ownerPath}.{Environment.ProcessId}.tmp";
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (OperatingSystem.IsLinux()) options.UnixCreateMode = OwnerOnly; // always: the file store runs on Linux only
        using (var file = new StreamWriter(temp, options))
            file.Write(owner);
        if (OperatingSystem.IsLinux()) File.SetUnixFileMode(temp, OwnerOnly); // a temp file a crash left keeps its first mode
        File.Move(temp, _ownerPath, overwrite: true);
    }

    public void Dispose()
    {
        int fd = Interlocked.Exchange(ref _fd, -1);
        if (fd < 0) return;
        if (_forgetOnRelease)
        {
            // Still held while the names go, so nobody takes the old file in between.
            File.Delete(_ownerPath);
            File.Delete(_lockPath);
        }
        Posix.CloseFd(fd);
    }

    /// <summary>Whether another descriptor holds the lock: asked by taking it for an instant.</summary>
    private static bool IsHeld(string lockPath)
    {
        int fd = Posix.OpenLockFile(lockPath);
        try
        {
            return !Posix.TryLockExclusive(fd, lockPath);
        }
        finally
        {
            Posix.CloseFd(fd);
        }
    }

    /// <summary>The lock files of the names starting with <paramref name="prefix"/>, held or not.</summary>
    private static IEnumerable<string> LockFiles(FileBlobStore store, string prefix)
    {
        string folder = Path.GetDirectoryName(Paths(store, prefix).Lock)!;
        return Directory.Exists(folder) ? Directory.EnumerateFiles(folder, prefix + "*.lock") : [];
    }

    private static (string Lock, string Owner) Paths(FileBlobStore store, string name)
    {
        ArgumentNullException.ThrowIfNull(store);
        StoreOwnerNames.Validate(name);
        string folder = Path.Combine(store.Root, Blobs.BlobKey.ReservedSegment, "owners");
        return (Path.Combine(folder, name + ".lock"), Path.Combine(folder, name + ".owner"));
    }

    /// <summary>Now, or once more after a moment: <see cref="FindOwner"/> holds the lock for an instant while it looks.</summary>
    private static bool TryLockSoon(int fd, string lockPath)
    {
        if (Posix.TryLockExclusive(fd, lockPath)) return true;
        Thread.Sleep(LookingGrace);
        return Posix.TryLockExclusive(fd, lockPath);
    }

    private static string? ReadOwner(string ownerPath) => File.Exists(ownerPath) ? File.ReadAllText(ownerPath).Trim() : null;
}
