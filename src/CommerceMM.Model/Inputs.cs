using TorchSharp;
using static TorchSharp.torch;

namespace CommerceMM.Model;

/// <summary>
/// Pass-1 input: B image-text pairs. Padding is true at padding positions; position 0 of every text is
/// [CLS]. The caller owns the tensors, which live on the model's device.
/// </summary>
/// <param name="Images">(B, C, H, W) float32</param>
/// <param name="TokenIds">(B, L) int64</param>
/// <param name="Padding">(B, L) bool</param>
/// <param name="SampleSeeds">
/// Optional per-row seeds (from the sample's identity): the MLM and patch masks of a row are then a
/// function of the sample, not of which rank or row it landed on, so a job masks identically on any
/// world size. Null draws every row from the step generator.
/// </param>
public sealed record PairInputs(Tensor Images, Tensor TokenIds, Tensor Padding, ulong[]? SampleSeeds = null)
{
    public long Rows => TokenIds.size(0);
}

/// <summary>
/// Pass-2 input: B (source, target) pairs. Targets always have image and text; a source has text
/// and/or an image as its presence flags say (query: text, photo: image, listing: both). Rows
/// without a modality are never read for that modality.
/// </summary>
public sealed record OmniInputs(
    Tensor SourceHasText, Tensor SourceHasImage,
    Tensor SourceImages, Tensor SourceTokenIds, Tensor SourcePadding,
    Tensor TargetImages, Tensor TargetTokenIds, Tensor TargetPadding)
{
    public long Rows => TargetTokenIds.size(0);
}
