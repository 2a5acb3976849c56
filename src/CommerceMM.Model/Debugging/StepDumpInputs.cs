using CommerceMM.Model.Tasks;
using TorchSharp;
using static TorchSharp.torch;

namespace CommerceMM.Model.Debugging;

/// <summary>The tensors of inputs.safetensors: the batch, the pass-1 plan and every choice the passes recorded.</summary>
public static class StepDumpInputs
{
    /// <summary>Prefix of the choices a pass records (e.g. "choice.itm_negative_text").</summary>
    public const string ChoicePrefix = "choice.";

    public static IEnumerable<(string Name, Tensor Tensor)> Collect(SyntheticBatch batch, Pass1Plan plan, PassOutput pass1, PassOutput pass2)
    {
        var p = batch.Pairs;
        var o = batch.Omni;
        var tensors = new List<(string, Tensor)>
        {
            ("pairs.images", p.Images),                 // (B, C, H, W) float32
            ("pairs.token_ids", p.TokenIds),            // (B, L) int64
            ("pairs.padding", p.Padding),               // (B, L) bool, true at padding
            ("plan.mlm_input_ids", plan.MlmInputIds),   // (B, L) int64 after [MASK]/random/keep
            ("plan.mlm_labels", plan.MlmLabels),        // (B, L) int64, -100 where not selected
            ("plan.patch_mask", plan.PatchMask),        // (B, N) bool, true at masked patches
            ("omni.source_has_text", o.SourceHasText),  // (B) bool
            ("omni.source_has_image", o.SourceHasImage),
            ("omni.source_images", o.SourceImages),     // rows without an image are never read
            ("omni.source_token_ids", o.SourceTokenIds),
            ("omni.source_padding", o.SourcePadding),
            ("omni.target_images", o.TargetImages),
            ("omni.target_token_ids", o.TargetTokenIds),
            ("omni.target_padding", o.TargetPadding),
        };
        foreach (var (name, choice) in pass1.Choices.Concat(pass2.Choices))
            tensors.Add((ChoicePrefix + name, choice));
        return tensors;
    }
}
