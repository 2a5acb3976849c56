using CommerceMM.Data.Loading;
using static TorchSharp.torch;

namespace CommerceMM.Data.Scale;

/// <summary>
/// B five-modality products as tensors, in the model's conventions: <see cref="Present"/> (B, 5) in the
/// order image, text, table, video, audio; a missing modality's slots are zeros or all padding. Owns its tensors.
/// </summary>
public sealed class ScaleBatch : Batch
{
    internal ScaleBatch(IReadOnlyList<string> keys, long epoch, long step, LoaderPosition position) : base(keys, epoch, step, position) { }

    public required Tensor Present { get; init; }
    /// <summary>(B, 1, H, W) float32, normalised with the data set's mean and std.</summary>
    public required Tensor Images { get; init; }
    public required Tensor TextIds { get; init; }
    public required Tensor TextPadding { get; init; }
    public required Tensor TableIds { get; init; }
    public required Tensor TablePadding { get; init; }
    /// <summary>(B, Lb) int64: entity of each table token (a key is 2j, its value 2j + 1); -1 for [CLS], [SEP], separators and padding.</summary>
    public required Tensor TableEntities { get; init; }
    /// <summary>(B, F, 1, H, W) float32, normalised like the images.</summary>
    public required Tensor Video { get; init; }
    /// <summary>(B, T, mels) float32 log-mel frames standardised per utterance; T the batch's longest utterance (at least 1).</summary>
    public required Tensor Audio { get; init; }
    public required Tensor AudioPadding { get; init; }
    /// <summary>(B) int64 category labels, -1 when unknown.</summary>
    public required Tensor Categories { get; init; }

    protected override IEnumerable<Tensor> Tensors =>
        [Present, Images, TextIds, TextPadding, TableIds, TablePadding, TableEntities, Video, Audio, AudioPadding, Categories];

    public override ScaleBatch To(Device device)
    {
        var t = TensorsOn(device);
        return new ScaleBatch(Keys, Epoch, Step, Position)
        {
            Present = t[0], Images = t[1], TextIds = t[2], TextPadding = t[3], TableIds = t[4], TablePadding = t[5],
            TableEntities = t[6], Video = t[7], Audio = t[8], AudioPadding = t[9], Categories = t[10], SkippedReasons = SkippedReasons,
        };
    }
}
