using CommerceMM.Model.Config;
using CommerceMM.Model.NN;
using CommerceMM.Model.Training;
using CommerceMM.Tensors;
using TorchSharp;
using static TorchSharp.torch;

namespace CommerceMM.Model.Tasks;

/// <summary>
/// Pass 1 (MODEL.md §3): itc, itm, mlm, mim_fr and mim_kl on B image-text pairs. The encoders see several
/// inputs (clean, text-masked, patch-masked, ITM pairs), each encoder in one call over all of them, and the
/// caller back-propagates the weighted sum once. A task with weight 0 computes nothing.
/// </summary>
public sealed class Pass1
{
    private readonly CommerceMMModel _model;
    private readonly PairInputs _inputs;
    private readonly Pass1Plan _plan;
    private readonly Allocation _allocation;
    private readonly ModelCollectives _collectives;
    private readonly Generator _generator;
    private readonly long _length;
    private readonly Device _device;
    private Tensor _text = null!, _image = null!, _textEmbedding = null!, _imageEmbedding = null!, _scale = null!;
    private Tensor? _maskedText, _maskedImage, _teacherImage, _itmFused, _mlmFused, _mimFused;
    // Selected MLM tokens and masked patches over all ranks: losses averaged over such positions are
    // normalised by the global count, so N ranks reproduce one process's mean even when counts differ.
    private long _globalMlmTokens, _globalMaskedPatches;

    private Pass1(CommerceMMModel model, PairInputs inputs, Pass1Plan plan, Allocation allocation, ModelCollectives collectives, Generator generator)
    {
        (_model, _inputs, _plan, _allocation, _collectives, _generator) = (model, inputs, plan, allocation, collectives, generator);
        _length = inputs.TokenIds.size(1);
        _device = inputs.TokenIds.device;
    }

    /// <param name="weight">the loss weight of a task id (0 disables it)</param>
    /// <param name="generator">draws the ITM hard negatives, after the plan's draws</param>
    public static PassOutput Run(CommerceMMModel model, PairInputs inputs, Pass1Plan plan, Allocation allocation,
                                 ModelCollectives collectives, Generator generator, Func<string, double> weight)
    {
        var output = new PassOutput(model.Branches);
        if (TaskIds.Pass1.All(t => weight(t) == 0))
        {
            foreach (var t in TaskIds.Pass1) output.Add(t, 0, () => null);
            return output;
        }
        using var region = model.ComputeRegion();
        using var scope = torch.NewDisposeScope();
        var pass = new Pass1(model, inputs, plan, allocation, collectives, generator);
        bool mim = weight(TaskIds.MimFr) != 0 || weight(TaskIds.MimKl) != 0;
        if (weight(TaskIds.Mlm) != 0 || mim) pass.CountPositions();
        bool mlm = weight(TaskIds.Mlm) != 0 && plan.MlmTokens > 0;
        pass.Encode(maskedText: mlm, maskedImage: mim, output.Deferred);
        pass.Fuse(itm: weight(TaskIds.Itm) != 0 && inputs.Rows >= 2, mlm, mim, output);
        output.Add(TaskIds.Itc, weight(TaskIds.Itc), pass.Itc);
        output.Add(TaskIds.Itm, weight(TaskIds.Itm), pass.Itm);
        output.Add(TaskIds.Mlm, weight(TaskIds.Mlm), pass.Mlm);
        pass.Mim(output, weight(TaskIds.MimFr), weight(TaskIds.MimKl));
        return output;
    }

    private void CountPositions()
    {
        long[] global = _collectives.SumCounts([_plan.MlmTokens, _plan.MaskedPatches]);
        (_globalMlmTokens, _globalMaskedPatches) = (global[0], global[1]);
    }

    /// <summary>
    /// Rows of <paramref name="x"/> (B, T, d) at the plan's positions <paramref name="positions"/> (b·width + i, within
    /// columns [offset, offset + width) of each row): what x.narrow(1, offset, width)[mask] gives, by a gather.
    /// </summary>
    private static Tensor Gather(Tensor x, Tensor positions, long offset, long width)
    {
        long t = x.size(1);
        using var w = width.ToScalar();
        var flat = positions.div(w, rounding_mode: RoundingMode.floor).Mul(t).Add(positions.remainder(w)).Add(offset);
        return x.reshape(-1, x.size(2)).index_select(0, flat);
    }

    /// <summary>Σ over this rank's positions, scaled so that averaging over ranks gives the global mean.</summary>
    private Tensor GlobalMean(Tensor sum, long globalCount) => sum.Mul((double)_collectives.World / globalCount);

    /// <summary>
    /// The clean text and image, and the MLM-corrupted text and the patch-masked image where a task needs them: each
    /// encoder runs once, over the clean and the corrupted rows stacked (<see cref="StackedRows"/>), the two encoders
    /// side by side where that pays (<see cref="ConcurrentBranches"/>).
    /// </summary>
    private void Encode(bool maskedText, bool maskedImage, DeferredBackward deferred)
    {
        Tensor[] cleanText = [_inputs.TokenIds, _inputs.Padding];
        Tensor[]? corruptedTextInputs = maskedText ? [_plan.MlmInputIds, _inputs.Padding] : null;
        Tensor[] cleanImage = maskedImage ? [_inputs.Images, torch.zeros_like(_plan.PatchMask)] : [_inputs.Images];
        Tensor[]? maskedImageInputs = maskedImage ? [_inputs.Images, _plan.PatchMask] : null;
        // The MIM teacher's forward (no backward) goes with the encoder that has less to do, so that side by side neither
        // waits long for the other: the image encoder at tiny, the text encoder at small (CONTRIBUTING, "Encoders side by side").
        // Work per batch row: inputs × sequence length × depth (the teacher runs only beside the patch-masked image).
        bool teacherWithText = (maskedText ? 2 : 1) * _length * _allocation.Text < 2 * (_model.Config.Image.PatchCount + 1) * _allocation.Image;
        var outputs = _model.Branches.Run(deferred,
            () => [.. StackedRows.Outputs(cleanText, corruptedTextInputs, x => _model.Text.Forward(x[0], x[1], _allocation.Text)),
                   maskedImage && teacherWithText ? TeacherImage() : null],
            () => [.. StackedRows.Outputs(cleanImage, maskedImageInputs, x => _model.Image.Forward(x[0], x.Length > 1 ? x[1] : null, _allocation.Image)),
                   maskedImage && !teacherWithText ? TeacherImage() : null]);
        var (text, corruptedText) = StackedRows.Split(cleanText, corruptedTextInputs, outputs[0]);              // (B, L, d) each
        var (image, patchMaskedImage) = StackedRows.Split(cleanImage, maskedImageInputs, outputs[1]);           // (B, N + 1, d) each
        _teacherImage = outputs[teacherWithText ? 0 : 1][^1];                                                   // (B, N + 1, d)
        (_text, _maskedText, _image, _maskedImage) = (text!, corruptedText, image!, patchMaskedImage);
        _textEmbedding = _model.ProjectText(_text);                                          // (B, E)
        _imageEmbedding = _model.ProjectImage(_image);                                        // (B, E)
        _scale = _model.Scale();
    }

    /// <summary>
    /// The fusion encoder, once, over the rows of every task that fuses: ITM's true pairs and hard negatives (3B), MLM's
    /// corrupted text with the clean image (B), and MIM's clean text with the masked image (B).
    /// </summary>
    private void Fuse(bool itm, bool mlm, bool mim, PassOutput output)
    {
        var text = new List<Tensor>();
        var padding = new List<Tensor>();
        var image = new List<Tensor>();
        void Add(Tensor t, Tensor p, Tensor i) { text.Add(t); padding.Add(p); image.Add(i); }
        if (itm)
        {
            var (negativeText, negativeImage) = SampleHardNegatives();
            output.Record(ChoiceNames.ItmNegativeText, negativeText);
            output.Record(ChoiceNames.ItmNegativeImage, negativeImage);
            Add(_text, _inputs.Padding, _image);                                                          // true pairs
            Add(_text.index_select(0, negativeText), _inputs.Padding.index_select(0, negativeText), _image);
            Add(_text, _inputs.Padding, _image.index_select(0, negativeImage));
        }
        if (mlm) Add(_maskedText!, _inputs.Padding, _image);
        if (mim) Add(_text, _inputs.Padding, _maskedImage!);
        if (text.Count == 0) return;
        var fused = _model.Fusion.Forward(torch.cat(text), torch.cat(padding), torch.cat(image), _allocation.Fusion);
        long b = _inputs.Rows, next = 0;
        Tensor Take(long rows) { var part = fused.narrow(0, next, rows); next += rows; return part; }
        if (itm) _itmFused = Take(3 * b);
        if (mlm) _mlmFused = Take(b);
        if (mim) _mimFused = Take(b);
    }

    /// <summary>itc: symmetric InfoNCE between e_v and e_t over the global batch (local rows × gathered columns).</summary>
    private Tensor? Itc()
    {
        var (offset, total) = _collectives.RowSpan(_inputs.Rows);
        if (total == 0) return null;
        var allText = _collectives.GatherWithGrad(_textEmbedding);
        var allImage = _collectives.GatherWithGrad(_imageEmbedding);
        var labels = HeldScalars.Arange(offset, offset + _inputs.Rows, _device);
        var imageToText = Contrastive.LocalRowsLoss(_imageEmbedding, allText, labels, _scale, _collectives.World, total);
        var textToImage = Contrastive.LocalRowsLoss(_textEmbedding, allImage, labels, _scale, _collectives.World, total);
        return imageToText.Add(textToImage).Mul(0.5);
    }

    /// <summary>
    /// itm: match/no-match on the fusion [CLS] for the B true pairs plus one hard negative text per image
    /// and one hard negative image per text, sampled from the local batch in proportion to the
    /// softmaxed ITC similarity with the positive excluded (ALBEF). Absent with fewer than 2 rows.
    /// </summary>
    private Tensor? Itm()
    {
        long b = _inputs.Rows;
        if (_itmFused is null) return null;
        var logits = _model.Itm.forward(_itmFused.select(1, 0)).squeeze(-1); // (3B)
        var labels = torch.cat([torch.ones(b, device: _device), torch.zeros(2 * b, device: _device)]);
        return torch.nn.functional.binary_cross_entropy_with_logits(logits, labels);
    }

    internal (Tensor NegativeText, Tensor NegativeImage) SampleHardNegatives()
    {
        using var noGrad = torch.no_grad();
        long b = _inputs.Rows;
        // Sampled on the CPU from the step's CPU generator, so every device draws the same negatives.
        var similarity = (_imageEmbedding.matmul(_textEmbedding.t()) * _scale).cpu();               // (B image, B text)
        var diagonal = torch.eye(b, dtype: ScalarType.Bool, device: torch.CPU);
        var imageToText = SamplingWeights(similarity, diagonal);
        var textToImage = SamplingWeights(similarity.t(), diagonal);
        return (imageToText.multinomial(1, false, _generator).squeeze(1).to(_device),
                textToImage.multinomial(1, false, _generator).squeeze(1).to(_device));
    }

    /// <summary>
    /// Softmax rows with the positive excluded. A tiny floor keeps every row sampleable when the softmax
    /// underflows, and non-finite weights (from a NaN input) become uniform: that step's losses are
    /// non-finite anyway and the trainer skips it, so sampling must not throw first.
    /// </summary>
    private static Tensor SamplingWeights(Tensor similarity, Tensor diagonal)
    {
        var weights = similarity.softmax(1).Add(1e-12);
        return weights.MaskedFill(weights.isfinite().logical_not(), 1.0).MaskedFill(diagonal, 0.0);
    }

    /// <summary>mlm: cross-entropy at the corrupted positions, fusing the masked text with the clean image.</summary>
    private Tensor? Mlm()
    {
        if (_globalMlmTokens == 0) return null;
        if (_mlmFused is null) return Zero(); // other ranks hold all of this step's positions
        var hidden = Gather(_mlmFused, _plan.MlmPositions, 0, _length);                               // (S, d)
        var logits = _model.Mlm.Forward(hidden);
        var labels = _plan.MlmLabels.flatten().index_select(0, _plan.MlmPositions);
        return GlobalMean(torch.nn.functional.cross_entropy(logits, labels, reduction: nn.Reduction.Sum), _globalMlmTokens);
    }

    /// <summary>
    /// mim_fr and mim_kl share one patch-masked image forward, fused with the clean text; targets come
    /// from the EMA teacher on the unmasked image at this step's allocation.
    /// </summary>
    private void Mim(PassOutput output, double frWeight, double klWeight)
    {
        if (frWeight == 0 && klWeight == 0)
        {
            output.Add(TaskIds.MimFr, 0, () => null);
            output.Add(TaskIds.MimKl, 0, () => null);
            return;
        }
        long patchCount = _plan.PatchMask.size(1);
        var positions = _plan.MaskedPatchPositions;
        var student = Gather(_mimFused!, positions, _length + 1, patchCount);                          // (M, d): masked patches
        var teacherImage = _teacherImage!;
        var teacherPatches = teacherImage.narrow(1, 1, teacherImage.size(1) - 1);                     // (B, N, d)
        bool anyMasked = _globalMaskedPatches > 0, mineMasked = _plan.MaskedPatches > 0; // an empty batch (end of epoch on a rank) has none
        output.Add(TaskIds.MimFr, frWeight, () => !anyMasked ? null : mineMasked ? FeatureRegression(student, Gather(teacherImage, positions, 1, patchCount)) : Zero());
        if (klWeight == 0)
        {
            output.Add(TaskIds.MimKl, 0, () => null);
            return;
        }
        var teacherScores = TeacherScores(teacherPatches);                                             // (B, N, K)
        output.CenterEstimate = (teacherScores.sum(new long[] { 0, 1 }).DetachFromDisposeScope(), teacherScores.size(0) * teacherScores.size(1));
        output.Add(TaskIds.MimKl, klWeight, () => !anyMasked ? null : mineMasked ? PrototypeKl(student, Gather(teacherScores, positions, 0, patchCount)) : Zero());
    }

    /// <summary>The EMA teacher's encoding of the unmasked images at this step's allocation (no gradient): MIM's targets.</summary>
    private Tensor TeacherImage()
    {
        using var noGrad = torch.no_grad();
        return _model.Teacher.Image.Forward(_inputs.Images, null, _allocation.Image);
    }

    /// <summary>mim_fr: mean over masked patches of ‖n(pred) − n(target)‖² = 2 − 2·cos.</summary>
    private Tensor FeatureRegression(Tensor student, Tensor target)
    {
        var prediction = Normalize(_model.MimPredictor.forward(student));
        var cosine = (prediction * Normalize(target)).sum(-1);
        return GlobalMean(cosine.Mul(-2.0).Add(2.0).sum(), _globalMaskedPatches);
    }

    /// <summary>Cosine similarity of each teacher patch feature to each teacher prototype: (B, N, K), no gradient.</summary>
    private Tensor TeacherScores(Tensor teacherPatches)
    {
        using var noGrad = torch.no_grad();
        return Normalize(teacherPatches).matmul(Normalize(_model.Teacher.Prototypes).t());
    }

    /// <summary>
    /// mim_kl: KL(teacher ‖ student) over K prototypes at masked patches; scores are cosine
    /// similarities; the teacher's are centred and sharpened (DINO/iBOT-style).
    /// </summary>
    private Tensor PrototypeKl(Tensor student, Tensor maskedTeacherScores)
    {
        var mim = _model.Config.Mim;
        var studentScores = Normalize(student).matmul(Normalize(_model.Prototypes).t());               // (M, K)
        var logStudent = studentScores.Div(mim.StudentTemperature).log_softmax(-1);
        Tensor teacherProbabilities;
        using (torch.no_grad())
            teacherProbabilities = (maskedTeacherScores - _model.MimCenter).Div(mim.TeacherTemperature).softmax(-1);
        return GlobalMean(torch.nn.functional.kl_div(logStudent, teacherProbabilities, log_target: false, reduction: nn.Reduction.Sum), _globalMaskedPatches);
    }

    private static Tensor Normalize(Tensor x) => torch.nn.functional.normalize(x, dim: -1);

    /// <summary>The loss of a rank that holds none of the step's positions: 0, on the batch's device.</summary>
    private Tensor Zero() => torch.zeros([], ScalarType.Float32, _device);
}
