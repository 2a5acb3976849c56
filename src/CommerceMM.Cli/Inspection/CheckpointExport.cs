using System.Globalization;
using System.Security.Cryptography;
using CommerceMM.Model;
using CommerceMM.Storage.Blobs;
using CommerceMM.Storage.Checkpoints;
using CommerceMM.Tensors;
using CommerceMM.Worker.Checkpointing;

namespace CommerceMM.Cli.Inspection;

/// <summary>What an export wrote.</summary>
/// <param name="Tokenizer">the tokenizer file written beside the weights; null for a checkpoint saved before checkpoints held it</param>
internal sealed record ExportResult(string Path, long Step, int Tensors, long Values, long Bytes, string Sha256, string? Tokenizer);

/// <summary>
/// A checkpoint's model weights as one safetensors file, for PyTorch and Hugging Face tools: the checkpoint's
/// <c>model.safetensors</c> (student, CommerceMM's EMA teacher and MIM centre, in PyTorch's state-dict names),
/// read once, checked against the manifest's size and SHA-256, parsed, and written with metadata naming its origin.
/// </summary>
internal static class CheckpointExport
{
    public static async Task<ExportResult> RunAsync(IBlobStore store, CheckpointManifest manifest, string output, bool withoutTeacher, CancellationToken cancellationToken)
    {
        // The bytes written are the bytes checked: never a second read that could differ from the first.
        byte[] bytes;
        byte[]? tokenizer = null;
        var tokenizerEntry = manifest.Files.FirstOrDefault(f => f.Path == CheckpointFiles.Tokenizer);   // none in checkpoints from before it was saved
        try
        {
            bytes = await CheckpointCatalog.ReadFileAsync(store, manifest, CheckpointFiles.Model, cancellationToken).ConfigureAwait(false);
            if (tokenizerEntry is not null)
                tokenizer = await CheckpointCatalog.ReadFileAsync(store, manifest, CheckpointFiles.Tokenizer, cancellationToken).ConfigureAwait(false);
        }
        catch (CheckpointException e)
        {
            throw new CheckpointException($"{e.Message}; nothing exported", e);
        }

        using var weights = SafeTensors.Read(new MemoryStream(bytes, writable: false), $"checkpoint step-{manifest.Step}/{CheckpointFiles.Model}");
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
            ["cmm.source_sha256"] = manifest.Files.First(f => f.Path == CheckpointFiles.Model).Sha256,
            ["cmm.teacher"] = withoutTeacher ? "left out" : "included",
        };

        string full = Path.GetFullPath(output);
        // The model reads token ids of this tokenizer alone: it goes beside the weights, as model.tokenizer.model.
        string? tokenizerPath = tokenizer is null ? null : TokenizerBeside(full);
        if (tokenizerEntry is not null) metadata["cmm.tokenizer_sha256"] = tokenizerEntry.Sha256;
        WriteAside(full, output, temp => SafeTensors.Write(temp, kept, metadata));
        if (tokenizer is not null) WriteAside(tokenizerPath!, output, temp => File.WriteAllBytes(temp, tokenizer));
        string sha;
        await using (var written = File.OpenRead(full))
            sha = Convert.ToHexStringLower(await SHA256.HashDataAsync(written, cancellationToken).ConfigureAwait(false));
        return new ExportResult(full, manifest.Step, kept.Count, kept.Sum(t => t.Tensor.numel()), new FileInfo(full).Length, sha, tokenizerPath);
    }

    /// <summary>Where the tokenizer goes for weights written to <paramref name="output"/>: model.safetensors → model.tokenizer.model.</summary>
    public static string TokenizerBeside(string output) => Path.ChangeExtension(output, ".tokenizer.model");

    /// <summary>Writes beside <paramref name="full"/> and renames over it: a reader never sees half a file.</summary>
    private static void WriteAside(string full, string output, Action<string> write)
    {
        string temp = Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            write(temp);
            File.Move(temp, full, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The system's message names the temporary file, which the user never asked for.
            throw new ArgumentException($"--out '{output}': cannot write a file in {Path.GetDirectoryName(full)} ({e.GetType().Name}: {e.Message}); choose a writable folder; nothing exported", e);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);   // Delete throws when the folder itself could not be made
        }
    }
}
