using System.Text.Json;
using System.Text.Json.Serialization;

namespace CommerceMM.Storage.Checkpoints;

/// <summary>
/// <c>manifest.json</c>: what a committed checkpoint contains and what it was made by. Written last, with
/// If-None-Match: *, so its existence means every listed file was uploaded first.
/// </summary>
/// <param name="FormatVersion">Layout version of this manifest; readers refuse newer versions by name.</param>
/// <param name="Job">The job that wrote it; a manifest from another job is never restored.</param>
/// <param name="Step">The training step the state belongs to (the state after this many optimizer steps).</param>
/// <param name="Generation">The coordinator generation that ordered the save (fencing: stale generations are refused upstream).</param>
/// <param name="WorldSize">Ranks that wrote it; restore may use a different world size.</param>
/// <param name="ConfigHash">Hash of the model-shaping configuration; a mismatch on restore is an error, not a fallback.</param>
/// <param name="CodeVersion">Version of the code that wrote it (informational).</param>
/// <param name="CreatedUtc">When the manifest was built.</param>
/// <param name="Files">Every file of the checkpoint with its size and SHA-256.</param>
public sealed record CheckpointManifest(
    int FormatVersion,
    string Job,
    long Step,
    long Generation,
    int WorldSize,
    string ConfigHash,
    string CodeVersion,
    DateTimeOffset CreatedUtc,
    IReadOnlyList<CheckpointFileEntry> Files)
{
    /// <summary>The format this code writes and the newest it reads.</summary>
    public const int CurrentFormatVersion = 1;

    /// <summary>A current-format manifest over the files every rank uploaded (sorted by path, so equal inputs give equal bytes).</summary>
    public static CheckpointManifest Create(
        string job, long step, long generation, int worldSize, string configHash, string codeVersion, IEnumerable<CheckpointFileEntry> files, TimeProvider? timeProvider = null)
    {
        var manifest = new CheckpointManifest(
            CurrentFormatVersion, job, step, generation, worldSize, configHash, codeVersion,
            (timeProvider ?? TimeProvider.System).GetUtcNow(),
            files.OrderBy(f => f.Path, StringComparer.Ordinal).ToList());
        manifest.Validate();
        return manifest;
    }

    /// <summary>Checks internal consistency; throws <see cref="CheckpointException"/> naming the first problem.</summary>
    public void Validate()
    {
        CheckpointLayout.ValidateJob(Job);
        if (Step < 0 || Generation < 0 || WorldSize < 1)
        {
            throw new CheckpointException($"Manifest of job '{Job}' has an invalid step ({Step}), generation ({Generation}) or world size ({WorldSize}).");
        }

        if (Files is null || Files.Count == 0)
        {
            throw new CheckpointException($"Manifest of job '{Job}' step {Step} lists no files.");
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (CheckpointFileEntry file in Files)
        {
            CheckpointLayout.ValidateFilePath(file.Path);
            if (!seen.Add(file.Path))
            {
                throw new CheckpointException($"Manifest of job '{Job}' step {Step} lists '{file.Path}' twice.");
            }

            if (file.Size < 0 || file.Sha256 is not { Length: 64 } || !file.Sha256.All(char.IsAsciiHexDigitLower))
            {
                throw new CheckpointException($"Manifest of job '{Job}' step {Step}: entry '{file.Path}' needs a size >= 0 and a lower-case hex SHA-256.");
            }
        }
    }

    /// <summary>Total bytes of all files.</summary>
    [JsonIgnore]
    public long TotalBytes => Files.Sum(f => f.Size);

    public byte[] ToJsonBytes() => JsonSerializer.SerializeToUtf8Bytes(this, CheckpointJsonContext.Default.CheckpointManifest);

    /// <summary>Parses manifest JSON; throws <see cref="CheckpointException"/> when it is not a manifest.</summary>
    public static CheckpointManifest Parse(ReadOnlySpan<byte> json)
    {
        try
        {
            return JsonSerializer.Deserialize(json, CheckpointJsonContext.Default.CheckpointManifest)
                ?? throw new CheckpointException("manifest.json is 'null'.");
        }
        catch (JsonException e)
        {
            throw new CheckpointException($"manifest.json is not valid: {e.Message}", e);
        }
    }
}

/// <summary>One file of a checkpoint.</summary>
/// <param name="Path">Path inside the step folder, e.g. <c>model-00001.safetensors</c> or <c>rank-0003/state.json</c>.</param>
/// <param name="Size">Length in bytes.</param>
/// <param name="Sha256">SHA-256 of the content, lower-case hex.</param>
/// <param name="Rank">The rank that uploaded it.</param>
public sealed record CheckpointFileEntry(string Path, long Size, string Sha256, int Rank);

/// <summary>
/// The content of <c>latest</c>: which step is committed. A commit moves it forward, only after verification; only a
/// rollback (<see cref="CheckpointRollback"/>) or the coordinator's set-aside moves it back. A rollback past bad data sets
/// <paramref name="SkipSteps"/>: training resumed from this step first skips the data of that many steps. The next commit's
/// pointer has none, so the data is skipped once in the lineage that counts.
/// </summary>
public sealed record LatestPointer(int FormatVersion, string Job, long Step, long Generation,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] long SkipSteps = 0)
{
    public byte[] ToJsonBytes() => JsonSerializer.SerializeToUtf8Bytes(this, CheckpointJsonContext.Default.LatestPointer);

    public static LatestPointer Parse(ReadOnlySpan<byte> json)
    {
        try
        {
            return JsonSerializer.Deserialize(json, CheckpointJsonContext.Default.LatestPointer)
                ?? throw new CheckpointException("The latest pointer is 'null'.");
        }
        catch (JsonException e)
        {
            throw new CheckpointException($"The latest pointer is not valid JSON: {e.Message}", e);
        }
    }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true)]
[JsonSerializable(typeof(CheckpointManifest))]
[JsonSerializable(typeof(LatestPointer))]
[JsonSerializable(typeof(RollbackRecord))]
internal sealed partial class CheckpointJsonContext : JsonSerializerContext;
