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
    private const string Fix = "resume on the data set it was trained on (data.dir), or train a new job on this one: --set job.name=NEW";

    /// <summary>The model's token ids mean what this data set's tokenizer means (checkpoints from before the record are let through).</summary>
    /// <exception cref="CheckpointException">The data set's tokenizer is another than the one the checkpoint trained with.</exception>
    public static void Tokenizer(RankState state, long step, string dataDir, DatasetManifest data)
    {
        if (state.TokenizerSha256 is not { } trained || string.Equals(trained, data.Tokenizer.Sha256, StringComparison.OrdinalIgnoreCase)) return;
        throw new CheckpointException(
            $"checkpoint step-{step} was trained with another tokenizer than the data set in '{dataDir}' has now (SHA-256 {Short(trained)}, " +
            $"now {Short(data.Tokenizer.Sha256)}): the data set was rebuilt, and the model's token ids would stand for other words; {Fix}");
    }

    /// <summary>Every stream the checkpoint read still holds the samples its saved position counts (else the order, and what was seen, changes).</summary>
    /// <exception cref="CheckpointException">A stream now holds another number of samples.</exception>
    public static void Streams(RankState state, long step, string dataDir, DatasetManifest data)
    {
        foreach (var (stream, position) in state.Streams.OrderBy(s => s.Key, StringComparer.Ordinal))
        {
            long now = data.Streams.TryGetValue(stream, out var info) ? info.Samples : 0;
            if (now == position.Samples) continue;
            throw new CheckpointException(
                string.Create(CultureInfo.InvariantCulture, $"checkpoint step-{step} read stream '{stream}' of {position.Samples:N0} samples; ") +
                string.Create(CultureInfo.InvariantCulture, $"the data set in '{dataDir}' now holds {now:N0}, so its place in the epoch cannot be found again ") +
                $"(the data set was rebuilt or replaced); {Fix}");
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
