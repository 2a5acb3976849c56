using CommerceMM.Data.Format;
using static TorchSharp.torch;

namespace CommerceMM.Data.Loading;

/// <summary>
/// What every batch carries besides its tensors. A batch owns its tensors: dispose it after the step.
/// Padding masks are true at padding positions (PyTorch's key_padding_mask convention).
/// </summary>
public abstract class Batch : IDisposable
{
    private protected Batch(IReadOnlyList<string> keys, long epoch, long step, LoaderPosition position)
    {
        Keys = keys;
        Epoch = epoch;
        Step = step;
        Position = position;
    }

    /// <summary>Sample keys in row order (skipped bad samples are absent, so this may be shorter than the batch size).</summary>
    public IReadOnlyList<string> Keys { get; }
    public int Count => Keys.Count;

    /// <summary>Why each bad sample of this batch's share was left out (usually empty).</summary>
    public IReadOnlyList<SkipReason> SkippedReasons { get; internal set; } = [];
    public long Epoch { get; }

    /// <summary>Step within the epoch (the same on every rank).</summary>
    public long Step { get; }

    /// <summary>The position after this batch: save it with a checkpoint committed after this step.</summary>
    public LoaderPosition Position { get; }

    /// <summary>True for the epoch's last step; the next batch starts the next epoch.</summary>
    public bool EndOfEpoch => Position.Cursor == 0 && Position.Offset == 0 && Position.Epoch == Epoch + 1;

    protected abstract IEnumerable<Tensor> Tensors { get; }

    /// <summary>
    /// This batch with its tensors on <paramref name="device"/> (the loader collates on the host; the worker
    /// moves each batch to job.device). The copy owns its own tensor handles: dispose it and this batch.
    /// Tensors already on <paramref name="device"/> are shared, not copied.
    /// </summary>
    public abstract Batch To(Device device);

    private protected Tensor[] TensorsOn(Device device) => Tensors.Select(t => t.to(device)).ToArray();

    public void Dispose()
    {
        foreach (var t in Tensors) t.Dispose();
        GC.SuppressFinalize(this);
    }
}

/// <summary>Pass 1: B image-text pairs.</summary>
public sealed class PairBatch : Batch
{
    internal PairBatch(IReadOnlyList<string> keys, long epoch, long step, LoaderPosition position,
        Tensor images, Tensor tokenIds, Tensor paddingMask, Tensor categories)
        : base(keys, epoch, step, position)
    {
        Images = images;
        TokenIds = tokenIds;
        PaddingMask = paddingMask;
        Categories = categories;
    }

    /// <summary>float32 [B, C, H, W], normalised with the data set's mean and std.</summary>
    public Tensor Images { get; }

    /// <summary>int64 [B, L]: [CLS] text [SEP], then padding.</summary>
    public Tensor TokenIds { get; }

    /// <summary>bool [B, L]: true at padding.</summary>
    public Tensor PaddingMask { get; }

    /// <summary>int64 [B]: category label, -1 when unknown.</summary>
    public Tensor Categories { get; }

    protected override IEnumerable<Tensor> Tensors => [Images, TokenIds, PaddingMask, Categories];

    public override PairBatch To(Device device)
    {
        var t = TensorsOn(device);
        return new PairBatch(Keys, Epoch, Step, Position, t[0], t[1], t[2], t[3]) { SkippedReasons = SkippedReasons };
    }
}

/// <summary>
/// Pass 2: B (source, target) pairs. Targets always have image and text; a source has what its kind
/// says (query: text, photo: image, listing: both). Absent source images are zeros and absent source
/// texts are all padding: use the presence flags, never those rows.
/// </summary>
public sealed class OmniBatch : Batch
{
    internal OmniBatch(IReadOnlyList<string> keys, long epoch, long step, LoaderPosition position, Tensor[] tensors)
        : base(keys, epoch, step, position)
    {
        (Kinds, SourceHasText, SourceHasImage, SourceImages, SourceTokenIds, SourcePaddingMask,
         TargetImages, TargetTokenIds, TargetPaddingMask, TargetCategories) =
            (tensors[0], tensors[1], tensors[2], tensors[3], tensors[4], tensors[5], tensors[6], tensors[7], tensors[8], tensors[9]);
    }

    /// <summary>int64 [B]: <see cref="PairKind"/> values (0 query, 1 photo, 2 listing).</summary>
    public Tensor Kinds { get; }

    /// <summary>bool [B]: the source has text.</summary>
    public Tensor SourceHasText { get; }

    /// <summary>bool [B]: the source has an image.</summary>
    public Tensor SourceHasImage { get; }

    /// <summary>float32 [B, C, H, W]; zeros where the source has no image.</summary>
    public Tensor SourceImages { get; }

    /// <summary>int64 [B, L]; all padding where the source has no text.</summary>
    public Tensor SourceTokenIds { get; }
    public Tensor SourcePaddingMask { get; }
    public Tensor TargetImages { get; }
    public Tensor TargetTokenIds { get; }
    public Tensor TargetPaddingMask { get; }

    /// <summary>int64 [B]: the target product's category, -1 when unknown.</summary>
    public Tensor TargetCategories { get; }

    protected override IEnumerable<Tensor> Tensors =>
        [Kinds, SourceHasText, SourceHasImage, SourceImages, SourceTokenIds, SourcePaddingMask, TargetImages, TargetTokenIds, TargetPaddingMask, TargetCategories];

    public override OmniBatch To(Device device) => new(Keys, Epoch, Step, Position, TensorsOn(device)) { SkippedReasons = SkippedReasons };
}
