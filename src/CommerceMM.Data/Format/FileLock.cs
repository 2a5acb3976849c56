namespace CommerceMM.Data.Format;

/// <summary>
/// A lock between the processes of one machine: a file held open exclusively (on Linux, .NET takes a <c>flock</c> on
/// it). The system lets go when the holder exits, however it exits, so no lock outlives a crash.
/// </summary>
public static class FileLock
{
    /// <summary>
    /// The HResult of .NET's "the process cannot access the file because it is being used by another process": on Linux
    /// the errno of the refused <c>flock</c> (EWOULDBLOCK), on Windows ERROR_SHARING_VIOLATION.
    /// </summary>
    private static bool HeldByAnother(IOException e) => e.HResult is 11 or unchecked((int)0x80070020);

    /// <summary>Holds the lock at <paramref name="path"/> (created with its folder if needed) until disposed, asking again every <paramref name="poll"/> while another process holds it.</summary>
    /// <param name="waiting">called once, when the lock is first found held by another</param>
    public static async Task<IDisposable> TakeAsync(string path, TimeSpan poll, Action? waiting, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        bool told = false;
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException e) when (HeldByAnother(e))
            {
                if (!told) waiting?.Invoke();
                told = true;
                await Task.Delay(poll, cancellationToken).ConfigureAwait(false);
            }
        }
    }
}
