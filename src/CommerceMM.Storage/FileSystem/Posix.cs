using System.Runtime.InteropServices;

namespace CommerceMM.Storage.FileSystem;

/// <summary>
/// The few libc calls .NET does not expose: <c>flock</c> on a descriptor we fully control, and <c>fsync</c> of a
/// directory (needed so a rename survives power loss; .NET cannot open a directory as a stream).
/// </summary>
/// <remarks>
/// Flags are the Linux values that are the same on x86-64 and arm64; the file store refuses to start elsewhere.
/// We do not lock through <see cref="FileShare"/>: .NET takes shared <c>flock</c> locks on its own for some modes,
/// and converting a shared lock to an exclusive one would livelock two processes that both hold it.
/// </remarks>
internal static partial class Posix
{
    private const int ORdOnly = 0x0;
    private const int ORdWr = 0x2;
    private const int OCreat = 0x40;
    private const int OCloExec = 0x80000;
    private const int LockEx = 2;
    private const int LockNb = 4;
    private const int EIntr = 4;
    private const int EWouldBlock = 11;

    /// <summary>Opens (creating if needed) a lock file and returns its descriptor.</summary>
    public static int OpenLockFile(string path)
    {
        while (true)
        {
            int fd = Open(path, ORdWr | OCreat | OCloExec, Convert.ToInt32("644", 8));
            if (fd >= 0)
            {
                return fd;
            }

            int errno = Marshal.GetLastPInvokeError();
            if (errno != EIntr)
            {
                throw new IOException($"Cannot open lock file '{path}': {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno}).");
            }
        }
    }

    /// <summary>Tries to take an exclusive <c>flock</c> without blocking; false when another descriptor holds it.</summary>
    public static bool TryLockExclusive(int fd, string path)
    {
        while (true)
        {
            if (Flock(fd, LockEx | LockNb) == 0)
            {
                return true;
            }

            int errno = Marshal.GetLastPInvokeError();
            if (errno == EWouldBlock)
            {
                return false;
            }

            if (errno != EIntr)
            {
                throw new IOException($"Cannot lock '{path}': {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno}).");
            }
        }
    }

    /// <summary>Closes a descriptor (which also releases its <c>flock</c>).</summary>
    public static void CloseFd(int fd) => _ = Close(fd);

    /// <summary>Flushes a directory's entries (new names from renames and unlinks) to stable storage.</summary>
    public static void FsyncDirectory(string path)
    {
        int fd = Open(path, ORdOnly | OCloExec, 0);
        if (fd < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw new IOException($"Cannot open directory '{path}' to fsync it: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno}).");
        }

        try
        {
            if (Fsync(fd) != 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                throw new IOException($"fsync of directory '{path}' failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno}).");
            }
        }
        finally
        {
            _ = Close(fd);
        }
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags, int mode);

    [LibraryImport("libc", EntryPoint = "flock", SetLastError = true)]
    private static partial int Flock(int fd, int operation);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}
