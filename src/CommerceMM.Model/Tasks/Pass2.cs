using CommerceMM.Model.Config;
using CommerceMM.Model.Training;
using CommerceMM.Tensors;
using TorchSharp;
using static TorchSharp.torch;

namespace CommerceMM.Model.Tasks;

/// <summary>
/// Pass 2 (MODEL.md §4): the nine Omni-Retrieval tasks omni_{s}2{t}. For each source embedding s the
/// source has (t: text, v: image, m: both) and each target embedding t of the product, a
/// one-directional InfoNCE from the eligible source rows to all targets of the global batch.
/// Encoders run only for the embeddings some enabled task needs, and only on rows that have the
/// modality: query rows never touch the image encoder, photo rows never touch the text encoder.
/// </summary>
public sealed class Pass2
{
    private readonly CommerceMMModel _model;
    private readonly OmniInputs _inputs;
    private readonly Allocation _allocation;

    private Pass2(CommerceMMModel model, OmniInputs inputs, Allocation allocation) => (_model, _inputs, _allocation) = (model, inputs, allocation);

    public static PassOutput Run(CommerceMMModel model, OmniInputs inputs, Allocation allocation, ModelCollectives collectives, Func<string, double> weight)
    {
        var output = new PassOutput();
        var enabled = TaskIds.Pass2.Where(t => weight(t) != 0).ToHashSet();
        if (enabled.Count == 0)
        {
            foreach (var t in TaskIds.Pass2) output.Add(t, 0, () => null);
            return output;
        }
        using var region = model.ComputeRegion();
        using var scope = torch.NewDisposeScope();
        var pass = new Pass2(model, inputs, allocation);
        // "omni_s2t": the source modality is character 5, the target modality character 7.
        var sources = pass.EncodeSources(m => enabled.Any(task => task[5] == m));
        var targets = pass.EncodeTargets(m => enabled.Any(task => task[7] == m));
        long[] eligible = collectives.SumCounts(TaskIds.Modalities.Select(m => sources.TryGetValue(m, out var s) ? s.Rows.size(0) : 0L).ToArray());
        var (offset, total) = collectives.RowSpan(inputs.Rows);
        var gathered = targets.ToDictionary(kv => kv.Key, kv => collectives.GatherWithGrad(kv.Value));
        var scale = model.Scale();

        for (int si = 0; si < 3; si++)
        {
            char s = TaskIds.Modalities[si];
            foreach (char t in TaskIds.Modalities)
            {
                string task = TaskIds.Omni(s, t);
                output.Add(task, weight(task), () =>
                {
                    if (eligible[si] == 0) return null;
                    var (embedding, rows) = sources[s];
                    return Contrastive.LocalRowsLoss(embedding, gathered[t], rows.Add(offset), scale, collectives.World, eligible[si]);
                });
            }
        }
        return output;
    }

    /// <summary>Source embeddings by modality, each with the batch rows it covers: (n, E) and (n) int64.</summary>
    private Dictionary<char, (Tensor Embedding, Tensor Rows)> EncodeSources(Func<char, bool> needed)
    {
        var result = new Dictionary<char, (Tensor, Tensor)>();
        var rowIndex = HeldScalars.Arange(_inputs.Rows, _inputs.TargetTokenIds.device);
        bool needText = needed('t') || needed('m'), needImage = needed('v') || needed('m');
        Tensor? text = null, image = null;
        if (needText)
        {
            var has = _inputs.SourceHasText;
            text = _model.Text.Forward(_inputs.SourceTokenIds[has], _inputs.SourcePadding[has], _allocation.Text);
            if (needed('t')) result['t'] = (_model.ProjectText(text), rowIndex[has]);
        }
        if (needImage)
        {
            var has = _inputs.SourceHasImage;
            image = _model.Image.Forward(_inputs.SourceImages[has], null, _allocation.Image);
            if (needed('v')) result['v'] = (_model.ProjectImage(image), rowIndex[has]);
        }
        if (needed('m'))
        {
            // Rows with both modalities, picked out of the text rows and out of the image rows.
            var both = _inputs.SourceHasText.logical_and(_inputs.SourceHasImage);
            var textOfBoth = text![_inputs.SourceHasImage[_inputs.SourceHasText]];
            var imageOfBoth = image![_inputs.SourceHasText[_inputs.SourceHasImage]];
            var padding = _inputs.SourcePadding[both];
            var fused = _model.Fusion.Forward(textOfBoth, padding, imageOfBoth, _allocation.Fusion);
            result['m'] = (_model.ProjectFusion(fused), rowIndex[both]);
        }
        return result;
    }

    /// <summary>Target (product) embeddings by modality, each (B, E).</summary>
    private Dictionary<char, Tensor> EncodeTargets(Func<char, bool> needed)
    {
        var result = new Dictionary<char, Tensor>();
        Tensor? text = null, image = null;
        if (needed('t') || needed('m')) text = _model.Text.Forward(_inputs.TargetTokenIds, _inputs.TargetPadding, _allocation.Text);
        if (needed('v') || needed('m')) image = _model.Image.Forward(_inputs.TargetImages, null, _allocation.Image);
        if (needed('t')) result['t'] = _model.ProjectText(text!);
        if (needed('v')) result['v'] = _model.ProjectImage(image!);
        if (needed('m')) result['m'] = _model.ProjectFusion(_model.Fusion.Forward(text!, _inputs.TargetPadding, image!, _allocation.Fusion));
        return result;
    }
}
