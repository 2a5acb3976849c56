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

    /// <summary>Creates <paramref name="root"/> if needed and holds its lock until disposed; reports <see cref="BuildStage.Waiting"/> once while another builder holds it.</summary>
    public static Task<IDisposable> TakeAsync(string root, IProgress<BuildProgress>? progress, CancellationToken cancellationToken) =>
        FileLock.TakeAsync(Path.Combine(root, FileName), Poll,
                           () => progress?.Report(new BuildProgress(BuildStage.Waiting, 0, 1, $"another build of {root} is running; waiting for it to finish")), cancellationToken);
}
