using System.Globalization;
using CommerceMM.Data.Format;
using CommerceMM.Storage.Blobs;
using CommerceMM.Storage.Checkpoints;

namespace CommerceMM.Worker.Checkpointing;

/// <summary>
/// Whether a checkpoint can go on with the data set in data.dir: the one it trained on, or one rebuilt since. A rebuilt
/// data set (a catalog edited or grown, then `--overwrite`) trains a new tokenizer, whose ids stand for other pieces of
/// text than the model learned, and holds other sample counts, which the saved read positions cannot continue. Either
/// is refused by name rather than resumed into a silently scrambled model.
/// </summary>
public static class TrainedOnCheck
{
    /// <summary>The model's token ids mean what this data set's tokenizer means (checkpoints from before the record are let through).</summary>
    /// <param name="job">the job whose checkpoint it is</param>
    /// <param name="use">what the checkpoint is for, which decides the advice</param>
    /// <exception cref="CheckpointException">The data set's tokenizer is another than the one the checkpoint trained with.</exception>
    public static void Tokenizer(RankState state, long step, string dataDir, DatasetManifest data, string job, CheckpointUse use = CheckpointUse.Resume)
    {
        if (state.TokenizerSha256 is not { } trained || string.Equals(trained, data.Tokenizer.Sha256, StringComparison.OrdinalIgnoreCase)) return;
        string checkpoint = use == CheckpointUse.InitFrom ? $"job.init_from: job '{job}''s checkpoint step-{step}" : $"checkpoint step-{step}";
        const string keepTokenizer = "build this data set with the tokenizer it trained with (cmm data build catalog … --tokenizer-from: that data set, " +
                                     "or the tokenizer `cmm checkpoints export` writes beside the weights)";
        string fix = use switch
        {
            CheckpointUse.InitFrom => $"{keepTokenizer}, or start from the seed (no job.init_from)",
            CheckpointUse.Evaluate => $"evaluate it on the data set it was trained on (data.dir), or {keepTokenizer}",
            _ => $"resume on the data set it was trained on (data.dir); or {keepTokenizer} and start a new job from this one's weights: " +
                 $"--set job.name=NEW --set job.init_from={job}; or train a new job from the seed: --set job.name=NEW",
        };
        throw new CheckpointException(
            $"{checkpoint} was trained with another tokenizer than the data set in '{dataDir}' has (SHA-256 {Short(trained)}, " +
            $"the data set's {Short(data.Tokenizer.Sha256)}): the model's token ids would stand for other words; {fix}");
    }

    /// <summary>Every stream the checkpoint read still holds the samples its saved position counts (else the order, and what was seen, changes).</summary>
    /// <param name="job">the job whose checkpoint it is</param>
    /// <exception cref="CheckpointException">A stream now holds another number of samples.</exception>
    public static void Streams(RankState state, long step, string dataDir, DatasetManifest data, string job)
    {
        foreach (var (stream, position) in state.Streams.OrderBy(s => s.Key, StringComparer.Ordinal))
        {
            long now = data.Streams.TryGetValue(stream, out var info) ? info.Samples : 0;
            if (now == position.Samples) continue;
            throw new CheckpointException(
                string.Create(CultureInfo.InvariantCulture, $"checkpoint step-{step} read stream '{stream}' of {position.Samples:N0} samples; ") +
                string.Create(CultureInfo.InvariantCulture, $"the data set in '{dataDir}' now holds {now:N0}, so its place in the epoch cannot be found again ") +
                $"(the data set was rebuilt or replaced); start a new job on it from this one's weights: --set job.name=NEW --set job.init_from={job}, " +
                "or resume on the data set it was trained on (data.dir)");
        }
    }

    /// <summary>Rank 0's state record of a committed checkpoint, checked against its manifest.</summary>
    /// <exception cref="CheckpointException">The file is missing or not the bytes listed.</exception>
    /// <exception cref="InvalidDataException">It is not a rank state record this build reads.</exception>
    public static async Task<RankState> ReadRankZeroAsync(IBlobStore store, CheckpointManifest manifest, CancellationToken cancellationToken)
    {
        string path = $"{AsyncCheckpointSaver.RankFolder(0)}/{RankState.FileName}";
        return RankState.Parse(await CheckpointCatalog.ReadFileAsync(store, manifest, path, cancellationToken).ConfigureAwait(false), path);
    }

    private static string Short(string sha256) => sha256.Length > 12 ? sha256[..12] + "…" : sha256;
}

/// <summary>What a checkpoint is read for: the advice when it does not fit the data set differs.</summary>
public enum CheckpointUse
{
    /// <summary>The job goes on from its own checkpoint.</summary>
    Resume,
    /// <summary>A new job starts from another job's weights (job.init_from).</summary>
    InitFrom,
    /// <summary>`cmm eval` measures it.</summary>
    Evaluate,
}
