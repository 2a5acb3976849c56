using System.Security.Cryptography;
using CommerceMM.Storage.Blobs;

namespace CommerceMM.Storage.Checkpoints;

/// <summary>Uploads one checkpoint file and returns its manifest entry (size and SHA-256 of exactly the bytes sent).</summary>
public static class CheckpointFileWriter
{
    /// <summary>
    /// Writes <paramref name="content"/> as <paramref name="path"/> of step <paramref name="step"/>. Refuses when the step
    /// already has a manifest: a committed checkpoint is immutable, and overwriting one of its files would corrupt it.
    /// </summary>
    /// <remarks>The write itself is unconditional so that a save interrupted at this step (no manifest) can be redone.</remarks>
    public static async Task<CheckpointFileEntry> WriteAsync(
        IBlobStore store, string job, long step, string path, ReadOnlyMemory<byte> content, int rank, CancellationToken cancellationToken = default)
    {
        await EnsureNotCommittedAsync(store, job, step, cancellationToken).ConfigureAwait(false);
        return await WriteUncheckedAsync(store, job, step, path, content, rank, cancellationToken).ConfigureAwait(false);
    }

    /// <summary><see cref="WriteAsync"/> without the committed-step check, for callers that made it once for many files.</summary>
    internal static async Task<CheckpointFileEntry> WriteUncheckedAsync(
        IBlobStore store, string job, long step, string path, ReadOnlyMemory<byte> content, int rank, CancellationToken cancellationToken)
    {
        string key = CheckpointLayout.FileKey(job, step, path);
        string sha256 = Convert.ToHexStringLower(SHA256.HashData(content.Span));
        using var stream = new ReadOnlyMemoryStream(content);
        BlobWriteResult result = await store.PutAsync(key, stream, BlobCondition.None, cancellationToken).ConfigureAwait(false);
        if (!result.Succeeded)
        {
            throw new CheckpointException($"Writing checkpoint file '{key}' was refused by the store ({result.Status}).");
        }

        return new CheckpointFileEntry(path, content.Length, sha256, rank);
    }

    /// <summary>Throws when step <paramref name="step"/> of <paramref name="job"/> already has a manifest.</summary>
    public static async Task EnsureNotCommittedAsync(IBlobStore store, string job, long step, CancellationToken cancellationToken)
    {
        if (await store.GetPropertiesAsync(CheckpointLayout.ManifestKey(job, step), cancellationToken).ConfigureAwait(false) is not null)
        {
            throw new CheckpointException($"Checkpoint step {step} of job '{job}' is already committed (it has a manifest); its files cannot be rewritten.");
        }
    }
}
