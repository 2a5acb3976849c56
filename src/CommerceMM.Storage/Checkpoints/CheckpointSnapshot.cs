namespace CommerceMM.Storage.Checkpoints;

/// <summary>
/// One rank's state at a step, already copied to host memory: training may continue (and mutate its tensors) as soon as
/// the snapshot exists. The saver reads these bytes in the background, so the caller must not change them afterwards.
/// </summary>
/// <param name="Step">The step the state belongs to.</param>
/// <param name="Replicated">Files every rank holds identically (the same list on every rank); each is uploaded by one rank.</param>
/// <param name="RankLocal">This rank's own files (RNG state, data position); stored under <c>rank-NNNNN/</c>.</param>
public sealed record CheckpointSnapshot(long Step, IReadOnlyList<SnapshotFile> Replicated, IReadOnlyList<SnapshotFile> RankLocal)
{
    /// <summary>
    /// Run by the saver, on its own thread, before it reads the files: completes bytes the snapshot left to be
    /// filled in the background (a GPU's tensors, copied to the host while training goes on). Null when they are complete.
    /// </summary>
    public Action? Fill { get; init; }

    /// <summary>Called once, when the saver is done reading the files (the upload finished or failed): their buffers may be reused.</summary>
    public Action? Release { get; init; }
}

/// <summary>A file of a snapshot: its path inside the step folder and its bytes (opaque here; tensor files are safetensors).</summary>
public sealed record SnapshotFile(string Path, ReadOnlyMemory<byte> Content)
{
    /// <summary>A snapshot file holding a private copy of <paramref name="content"/>, for callers that will reuse their buffer.</summary>
    public static SnapshotFile Copy(string path, ReadOnlySpan<byte> content) => new(path, content.ToArray());
}

/// <summary>What one rank uploaded for one step: the manifest entries the committer needs from it.</summary>
public sealed record RankSaveResult(long Step, int Rank, IReadOnlyList<CheckpointFileEntry> Files, long Bytes, TimeSpan Elapsed);
