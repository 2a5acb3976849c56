using System.Globalization;
using System.Security.Cryptography;
using CommerceMM.Model;
using CommerceMM.Storage.Blobs;
using CommerceMM.Storage.Checkpoints;
using CommerceMM.Tensors;
using CommerceMM.Worker.Checkpointing;

namespace CommerceMM.Cli.Inspection;

/// <summary>What an export wrote.</summary>
internal sealed record ExportResult(string Path, long Step, int Tensors, long Values, long Bytes, string Sha256);

/// <summary>
/// A checkpoint's model weights as one safetensors file, for PyTorch and Hugging Face tools: the checkpoint's
/// <c>model.safetensors</c> (student, CommerceMM's EMA teacher and MIM centre, in PyTorch's state-dict names),
/// read once, checked against the manifest's size and SHA-256, parsed, and written with metadata naming its origin.
/// </summary>
internal static class CheckpointExport
{
    public static async Task<ExportResult> RunAsync(IBlobStore store, CheckpointManifest manifest, string output, bool withoutTeacher, CancellationToken cancellationToken)
    {
        var entry = manifest.Files.FirstOrDefault(f => f.Path == CheckpointFiles.Model)
            ?? throw new CheckpointException($"checkpoint step-{manifest.Step} has no {CheckpointFiles.Model} (it has: {string.Join(", ", manifest.Files.Select(f => f.Path))})");
        // The bytes written are the bytes checked: never a second read that could differ from the first.
        byte[] bytes = await ReadCheckedAsync(store, manifest, entry, cancellationToken).ConfigureAwait(false);

        using var weights = SafeTensors.Read(new MemoryStream(bytes, writable: false), $"checkpoint step-{manifest.Step}/{entry.Path}");
        var kept = weights.Tensors.Where(t => !(withoutTeacher && t.Name.StartsWith(CommerceMMModel.TeacherPrefix, StringComparison.Ordinal))).ToList();
        var metadata = new Dictionary<string, string>(weights.Metadata)
        {
            // "format": "pt" is what Hugging Face's loaders look for in a PyTorch state dict.
            ["format"] = "pt",
            ["cmm.job"] = manifest.Job,
            ["cmm.step"] = manifest.Step.ToString(CultureInfo.InvariantCulture),
            ["cmm.config_hash"] = manifest.ConfigHash,
            ["cmm.code_version"] = manifest.CodeVersion,
            ["cmm.created_utc"] = manifest.CreatedUtc.ToString("O", CultureInfo.InvariantCulture),
            ["cmm.source_sha256"] = entry.Sha256,
            ["cmm.teacher"] = withoutTeacher ? "left out" : "included",
        };

        string full = Path.GetFullPath(output);
        string temp = Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            // Written beside the target and renamed over it: a reader never sees half a file.
            SafeTensors.Write(temp, kept, metadata);
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            File.Delete(temp);
        }
        string sha;
        await using (var written = File.OpenRead(full))
            sha = Convert.ToHexStringLower(await SHA256.HashDataAsync(written, cancellationToken).ConfigureAwait(false));
        return new ExportResult(full, manifest.Step, kept.Count, kept.Sum(t => t.Tensor.numel()), new FileInfo(full).Length, sha);
    }

    private static async Task<byte[]> ReadCheckedAsync(IBlobStore store, CheckpointManifest manifest, CheckpointFileEntry entry, CancellationToken cancellationToken)
    {
        string where = $"checkpoint step-{manifest.Step} file '{entry.Path}'";
        using var buffer = new MemoryStream();
        try
        {
            await using var download = await store.OpenReadAsync(CheckpointLayout.FileKey(manifest.Job, manifest.Step, entry.Path), cancellationToken: cancellationToken).ConfigureAwait(false)
                ?? throw new CheckpointException($"{where} is missing; nothing exported");
            await download.Content.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
        catch (BlobStoreException e) when (e.IsCorruptContent)
        {
            throw new CheckpointException($"{where}: {e.Message}; nothing exported", e);
        }
        byte[] bytes = buffer.ToArray();
        if (bytes.Length != entry.Size)
            throw new CheckpointException($"{where}: size expected {entry.Size} bytes but found {bytes.Length}; nothing exported");
        string actual = Convert.ToHexStringLower(SHA256.HashData(bytes));
        if (actual != entry.Sha256)
            throw new CheckpointException($"{where}: SHA-256 expected {entry.Sha256} but found {actual}; nothing exported");
        return bytes;
    }
}
