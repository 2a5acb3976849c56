using CommerceMM.Model.Config;
using CommerceMM.Model.NN;
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
        var output = new PassOutput(model.Branches);
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
        var (sources, targets) = pass.Encode(m => enabled.Any(task => task[5] == m), m => enabled.Any(task => task[7] == m), output.Deferred);
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

    /// <summary>
    /// Source embeddings by modality, each with the batch rows it covers ((n, E) and (n) int64), and target (product)
    /// embeddings by modality, each (B, E). Each encoder runs once over the source and the target rows stacked, the text
    /// and the image encoder side by side where that pays (<see cref="ConcurrentBranches"/>).
    /// </summary>
    private (Dictionary<char, (Tensor Embedding, Tensor Rows)> Sources, Dictionary<char, Tensor> Targets) Encode(Func<char, bool> source, Func<char, bool> target, DeferredBackward deferred)
    {
        var sources = new Dictionary<char, (Tensor, Tensor)>();
        var targets = new Dictionary<char, Tensor>();
        var rowIndex = HeldScalars.Arange(_inputs.Rows, _inputs.TargetTokenIds.device);
        var hasText = _inputs.SourceHasText;
        var hasImage = _inputs.SourceHasImage;
        Tensor[]? sourceText = source('t') || source('m') ? [_inputs.SourceTokenIds[hasText], _inputs.SourcePadding[hasText]] : null;
        Tensor[]? productTextInputs = target('t') || target('m') ? [_inputs.TargetTokenIds, _inputs.TargetPadding] : null;
        Tensor[]? sourceImage = source('v') || source('m') ? [_inputs.SourceImages[hasImage]] : null;
        Tensor[]? productImageInputs = target('v') || target('m') ? [_inputs.TargetImages] : null;
        var outputs = _model.Branches.Run(deferred,
            () => StackedRows.Outputs(sourceText, productTextInputs, x => _model.Text.Forward(x[0], x[1], _allocation.Text)),
            () => StackedRows.Outputs(sourceImage, productImageInputs, x => _model.Image.Forward(x[0], null, _allocation.Image)));
        var (text, productText) = StackedRows.Split(sourceText, productTextInputs, outputs[0]);
        var (image, productImage) = StackedRows.Split(sourceImage, productImageInputs, outputs[1]);
        if (source('t')) sources['t'] = (_model.ProjectText(text!), rowIndex[hasText]);
        if (source('v')) sources['v'] = (_model.ProjectImage(image!), rowIndex[hasImage]);
        if (target('t')) targets['t'] = _model.ProjectText(productText!);
        if (target('v')) targets['v'] = _model.ProjectImage(productImage!);
        // Source rows with both modalities, picked out of the text rows and out of the image rows.
        var both = source('m') ? hasText.logical_and(hasImage) : null;
        var (fused, productFused) = StackedRows.Encode(
            both is not null ? [text![hasImage[hasText]], _inputs.SourcePadding[both], image![hasText[hasImage]]] : null,
            target('m') ? [productText!, _inputs.TargetPadding, productImage!] : null,
            x => _model.Fusion.Forward(x[0], x[1], x[2], _allocation.Fusion));
        if (both is not null) sources['m'] = (_model.ProjectFusion(fused!), rowIndex[both]);
        if (target('m')) targets['m'] = _model.ProjectFusion(productFused!);
        return (sources, targets);
    }
}
