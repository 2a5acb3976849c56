using CommerceMM.Data.Fashion;

namespace CommerceMM.Data.Format;

/// <summary>
/// One builder at a time per data set folder. Two at once (two `cmm data build`, or two first runs of `cmm train`) wrote
/// the same shards, and one crashed on a sharing violation. The later one now waits, then finds the data set built (or
/// builds it). The lock is <c>ROOT/.build.lock</c>, held open exclusively; the system lets go when the builder exits,
/// however it exits.
/// </summary>
internal static class BuildLock
{
    public const string FileName = ".build.lock";

    /// <summary>How often a waiting builder asks again.</summary>
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// The HResult of .NET's "the process cannot access the file because it is being used by another process": on Linux
    /// the errno of the refused <c>flock</c> (EWOULDBLOCK), on Windows ERROR_SHARING_VIOLATION.
    /// </summary>
    private static bool HeldByAnother(IOException e) => e.HResult is 11 or unchecked((int)0x80070020);

    /// <summary>Creates <paramref name="root"/> if needed and holds its lock until disposed; reports <see cref="BuildStage.Waiting"/> once while another builder holds it.</summary>
    public static async Task<IDisposable> TakeAsync(string root, IProgress<BuildProgress>? progress, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(root);
        string path = Path.Combine(root, FileName);
        bool told = false;
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException e) when (HeldByAnother(e))
            {
                if (!told) progress?.Report(new BuildProgress(BuildStage.Waiting, 0, 1, $"another build of {root} is running; waiting for it to finish"));
                told = true;
                await Task.Delay(Poll, cancellationToken).ConfigureAwait(false);
            }
        }
    }
}
