using CommerceMM.Storage.Blobs;
using CommerceMM.Storage.Checkpoints;

namespace CommerceMM.Cli.Inspection;

/// <summary>One file of a checkpoint and what its check found (null: size and SHA-256 match the manifest).</summary>
internal sealed record CheckpointFileCheck(CheckpointFileEntry File, string? Problem);

/// <summary>
/// Checks every file of a manifest and keeps every result, where the restore path stops at the first broken file:
/// each file goes through the library's own <see cref="CheckpointVerifier"/> as a one-file manifest, so the check is
/// exactly the one restore makes (size, SHA-256, and on Azure the stored MD5), and a report can name every broken file.
/// </summary>
internal static class CheckpointFileChecks
{
    /// <summary>Files checked at once, as the verifier does: reading is I/O-bound, hashing one file takes one core.</summary>
    private const int Parallelism = 4;

    /// <param name="bytesDone">called with each file's size once it is checked (for progress)</param>
    public static async Task<IReadOnlyList<CheckpointFileCheck>> RunAsync(IBlobStore store, CheckpointManifest manifest, Action<long>? bytesDone, CancellationToken cancellationToken)
    {
        var checks = new CheckpointFileCheck[manifest.Files.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, checks.Length),
            new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = cancellationToken },
            async (i, ct) =>
            {
                var file = manifest.Files[i];
                string? problem = await CheckpointVerifier.VerifyAsync(store, manifest with { Files = [file] }, ct).ConfigureAwait(false);
                checks[i] = new CheckpointFileCheck(file, problem);
                bytesDone?.Invoke(file.Size);
            }).ConfigureAwait(false);
        return checks;
    }
}
