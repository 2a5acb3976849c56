using CommerceMM.Scale.Config;
using static TorchSharp.torch;

namespace CommerceMM.Scale.Debugging;

/// <summary>The tensors of a SCALE dump's inputs.safetensors: the batch as given, and every choice the mask plan made.</summary>
public static class ScaleStepDumpInputs
{
    public static IEnumerable<(string Name, Tensor Tensor)> Collect(ScaleInputs inputs, ScaleMaskPlan plan)
    {
        var candidates = new (string, Tensor?)[]
        {
            ("batch.present", inputs.Present),               // (B, 5) bool as given; the model also drops disabled modalities
            ("batch.images", inputs.Images),                 // (B, C, H, W) float32; zeros where missing
            ("batch.text_ids", inputs.TextIds),              // (B, Lt) int64
            ("batch.text_padding", inputs.TextPadding),      // (B, Lt) bool, true at padding
            ("batch.table_ids", inputs.TableIds),            // (B, Lb) int64
            ("batch.table_padding", inputs.TablePadding),
            ("batch.table_entities", inputs.TableEntities),  // (B, Lb) int64 entity per token, -1 outside entities
            ("batch.video", inputs.Video),                   // (B, F, C, H, W) float32
            ("batch.audio", inputs.Audio),                   // (B, T, mels) float32
            ("batch.audio_padding", inputs.AudioPadding),    // (B, T) bool
            ("plan.text_ids", plan.TextIds),                 // (B, Lt) after [MASK]/random/keep; absent when text is not masked
            ("plan.text_labels", plan.TextLabels),           // (B, Lt) original id at selected tokens, -100 elsewhere
            ("plan.table_ids", plan.TableIds),               // (B, Lb) whole entities replaced by [MASK]
            ("plan.table_labels", plan.TableLabels),
            ("plan.image_mask", plan.FeatureMask(ScaleModality.Image)),  // (B, N patches) bool
            ("plan.video_mask", plan.FeatureMask(ScaleModality.Video)),  // (B, F frames) bool
            ("plan.audio_mask", plan.FeatureMask(ScaleModality.Audio)),  // (B, T frames) bool
        };
        foreach (var (name, tensor) in candidates)
            if (tensor is not null) yield return (name, tensor);
    }
}
