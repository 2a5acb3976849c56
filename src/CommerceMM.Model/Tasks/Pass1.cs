using CommerceMM.Model.Config;
using CommerceMM.Model.Training;
using CommerceMM.Torch;

namespace CommerceMM.Model.Tasks;

/// <summary>
/// Pass 1 (MODEL.md §3): itc, itm, mlm, mim_fr and mim_kl on B image-text pairs. The encoders may run
/// several times (clean, text-masked, patch-masked, ITM pairs), but the caller back-propagates the
/// weighted sum once. A task with weight 0 computes nothing.
/// </summary>
public sealed class Pass1
{
    private readonly CommerceMMModel _model;
    private readonly PairInputs _inputs;
    private readonly Pass1Plan _plan;
    private readonly Allocation _allocation;
    private readonly Collectives _collectives;
    private readonly Generator _generator;
    private readonly long _length;
    private Tensor _text = null!, _image = null!, _textEmbedding = null!, _imageEmbedding = null!, _scale = null!;
    // Selected MLM tokens and masked patches over all ranks: losses averaged over such positions are
    // normalised by the global count, so N ranks reproduce one process's mean even when counts differ.
    private long _globalMlmTokens, _globalMaskedPatches;

    private Pass1(CommerceMMModel model, PairInputs inputs, Pass1Plan plan, Allocation allocation, Collectives collectives, Generator generator)
    {
        (_model, _inputs, _plan, _allocation, _collectives, _generator) = (model, inputs, plan, allocation, collectives, generator);
        _length = inputs.TokenIds.Size(1);
    }

    /// <param name="weight">the loss weight of a task id (0 disables it)</param>
    /// <param name="generator">draws the ITM hard negatives, after the plan's draws</param>
    public static PassOutput Run(CommerceMMModel model, PairInputs inputs, Pass1Plan plan, Allocation allocation,
                                 Collectives collectives, Generator generator, Func<string, double> weight)
    {
        var output = new PassOutput();
        if (TaskIds.Pass1.All(t => weight(t) == 0))
        {
            foreach (var t in TaskIds.Pass1) output.Add(t, 0, () => null);
            return output;
        }
        using var scope = DisposeScope.Open();
        var pass = new Pass1(model, inputs, plan, allocation, collectives, generator);
        pass.EncodeClean();
        if (weight(TaskIds.Mlm) != 0 || weight(TaskIds.MimFr) != 0 || weight(TaskIds.MimKl) != 0) pass.CountPositions();
        output.Add(TaskIds.Itc, weight(TaskIds.Itc), pass.Itc);
        output.Add(TaskIds.Itm, weight(TaskIds.Itm), () => pass.Itm(output));
        output.Add(TaskIds.Mlm, weight(TaskIds.Mlm), pass.Mlm);
        pass.Mim(output, weight(TaskIds.MimFr), weight(TaskIds.MimKl));
        return output;
    }

    private void CountPositions()
    {
        using var selected = _plan.MlmLabels.Ne(-100);
        using var tokens = selected.Sum();
        using var patches = _plan.PatchMask.Sum();
        long[] global = _collectives.SumCounts([tokens.ItemLong(), patches.ItemLong()]);
        (_globalMlmTokens, _globalMaskedPatches) = (global[0], global[1]);
    }

    /// <summary>Σ over this rank's positions, scaled so that averaging over ranks gives the global mean.</summary>
    private Tensor GlobalMean(Tensor sum, long globalCount) => sum * ((double)_collectives.World / globalCount);

    private void EncodeClean()
    {
        _text = _model.Text.Forward(_inputs.TokenIds, _inputs.Padding, _allocation.Text);   // (B, L, d)
        _image = _model.Image.Forward(_inputs.Images, null, _allocation.Image);             // (B, N + 1, d)
        _textEmbedding = _model.ProjectText(_text);                                          // (B, E)
        _imageEmbedding = _model.ProjectImage(_image);                                       // (B, E)
        _scale = _model.Scale();
    }

    /// <summary>itc: symmetric InfoNCE between e_v and e_t over the global batch (local rows × gathered columns).</summary>
    private Tensor? Itc()
    {
        var (offset, total) = _collectives.RowSpan(_inputs.Rows);
        if (total == 0) return null;
        var allText = _collectives.GatherWithGrad(_textEmbedding);
        var allImage = _collectives.GatherWithGrad(_imageEmbedding);
        var labels = Torch.Torch.Arange(offset, offset + _inputs.Rows);
        var imageToText = Contrastive.LocalRowsLoss(_imageEmbedding, allText, labels, _scale, _collectives.World, total);
        var textToImage = Contrastive.LocalRowsLoss(_textEmbedding, allImage, labels, _scale, _collectives.World, total);
        return (imageToText + textToImage) * 0.5;
    }

    /// <summary>
    /// itm: match/no-match on the fusion [CLS] for the B true pairs plus one hard negative text per image
    /// and one hard negative image per text, sampled from the local batch in proportion to the
    /// softmaxed ITC similarity with the positive excluded (ALBEF). Absent with fewer than 2 rows.
    /// </summary>
    private Tensor? Itm(PassOutput output)
    {
        long b = _inputs.Rows;
        if (b < 2) return null;
        var (negativeText, negativeImage) = SampleHardNegatives();
        output.Record(ChoiceNames.ItmNegativeText, negativeText);
        output.Record(ChoiceNames.ItmNegativeImage, negativeImage);
        var text = Torch.Torch.Cat([_text, _text.IndexSelect(0, negativeText), _text]);                 // (3B, L, d)
        var padding = Torch.Torch.Cat([_inputs.Padding, _inputs.Padding.IndexSelect(0, negativeText), _inputs.Padding]);
        var image = Torch.Torch.Cat([_image, _image, _image.IndexSelect(0, negativeImage)]);           // (3B, N + 1, d)
        var fused = _model.Fusion.Forward(text, padding, image, _allocation.Fusion);
        var logits = _model.Itm.Forward(fused.Select(1, 0)).Squeeze(-1);                                // (3B)
        var labels = Torch.Torch.Cat([Torch.Torch.Ones([b]), Torch.Torch.Zeros([2 * b])]);
        return Losses.BceWithLogits(logits, labels);
    }

    internal (Tensor NegativeText, Tensor NegativeImage) SampleHardNegatives()
    {
        using var noGrad = Torch.Torch.NoGrad();
        long b = _inputs.Rows;
        var similarity = _imageEmbedding.MatMul(_textEmbedding.T) * _scale;                           // (B image, B text)
        var diagonal = Torch.Torch.Arange(b).Unsqueeze(1).Eq(Torch.Torch.Arange(b).Unsqueeze(0));
        var imageToText = SamplingWeights(similarity, diagonal);
        var textToImage = SamplingWeights(similarity.T, diagonal);
        return (Torch.Torch.Multinomial(imageToText, 1, false, _generator).Squeeze(1),
                Torch.Torch.Multinomial(textToImage, 1, false, _generator).Squeeze(1));
    }

    /// <summary>
    /// Softmax rows with the positive excluded. A tiny floor keeps every row sampleable when the softmax
    /// underflows, and non-finite weights (from a NaN input) become uniform: that step's losses are
    /// non-finite anyway and the trainer skips it, so sampling must not throw first.
    /// </summary>
    private static Tensor SamplingWeights(Tensor similarity, Tensor diagonal)
    {
        var weights = similarity.Softmax(1) + 1e-12;
        return weights.MaskedFill(weights.IsFinite().LogicalNot(), 1.0).MaskedFill(diagonal, 0);
    }

    /// <summary>mlm: cross-entropy at the corrupted positions, fusing the masked text with the clean image.</summary>
    private Tensor? Mlm()
    {
        if (_globalMlmTokens == 0) return null;
        var selected = _plan.MlmLabels.Ne(-100);                                                      // (B, L)
        if (selected.Sum().ItemLong() == 0) return Torch.Torch.Scalar(0); // other ranks hold all of this step's positions
        var maskedText = _model.Text.Forward(_plan.MlmInputIds, _inputs.Padding, _allocation.Text);
        var fused = _model.Fusion.Forward(maskedText, _inputs.Padding, _image, _allocation.Fusion);   // (B, L + N + 1, d)
        var hidden = fused.Slice(1, 0, _length).MaskedSelectRows(selected);                            // (S, d)
        return GlobalMean(Losses.CrossEntropy(_model.Mlm.Forward(hidden), _plan.MlmLabels.MaskedSelectRows(selected), Reduction.Sum), _globalMlmTokens);
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
        var mask = _plan.PatchMask;                                                                   // (B, N)
        var maskedImage = _model.Image.Forward(_inputs.Images, mask, _allocation.Image);
        var fused = _model.Fusion.Forward(_text, _inputs.Padding, maskedImage, _allocation.Fusion);
        var student = fused.Slice(1, _length + 1, fused.Size(1)).MaskedSelectRows(mask);               // (M, d): masked patches
        Tensor teacherPatches;                                                                        // (B, N, d)
        using (Torch.Torch.NoGrad())
        {
            var teacherImage = _model.Teacher.Image.Forward(_inputs.Images, null, _allocation.Image);
            teacherPatches = teacherImage.Slice(1, 1, teacherImage.Size(1));
        }
        bool anyMasked = _globalMaskedPatches > 0, mineMasked = student.Size(0) > 0; // an empty batch (end of epoch on a rank) has none
        output.Add(TaskIds.MimFr, frWeight, () => !anyMasked ? null : mineMasked ? FeatureRegression(student, teacherPatches.MaskedSelectRows(mask)) : Torch.Torch.Scalar(0));
        if (klWeight == 0)
        {
            output.Add(TaskIds.MimKl, 0, () => null);
            return;
        }
        var teacherScores = TeacherScores(teacherPatches);                                             // (B, N, K)
        output.CenterEstimate = (DisposeScope.Detach(teacherScores.Sum([0, 1])), teacherScores.Size(0) * teacherScores.Size(1));
        output.Add(TaskIds.MimKl, klWeight, () => !anyMasked ? null : mineMasked ? PrototypeKl(student, teacherScores.MaskedSelectRows(mask)) : Torch.Torch.Scalar(0));
    }

    /// <summary>mim_fr: mean over masked patches of ‖n(pred) − n(target)‖² = 2 − 2·cos.</summary>
    private Tensor FeatureRegression(Tensor student, Tensor target)
    {
        var prediction = _model.MimPredictor.Forward(student).Normalize(-1);
        var cosine = (prediction * target.Normalize(-1)).Sum(-1);
        return GlobalMean((2.0 - cosine * 2.0).Sum(), _globalMaskedPatches);
    }

    /// <summary>Cosine similarity of each teacher patch feature to each teacher prototype: (B, N, K), no gradient.</summary>
    private Tensor TeacherScores(Tensor teacherPatches)
    {
        using var noGrad = Torch.Torch.NoGrad();
        return teacherPatches.Normalize(-1).MatMul(_model.Teacher.Prototypes.Normalize(-1).T);
    }

    /// <summary>
    /// mim_kl: KL(teacher ‖ student) over K prototypes at masked patches; scores are cosine
    /// similarities; the teacher's are centred and sharpened (DINO/iBOT-style).
    /// </summary>
    private Tensor PrototypeKl(Tensor student, Tensor maskedTeacherScores)
    {
        var mim = _model.Config.Mim;
        var studentScores = student.Normalize(-1).MatMul(_model.Prototypes.Normalize(-1).T);           // (M, K)
        var logStudent = (studentScores / mim.StudentTemperature).LogSoftmax(-1);
        Tensor teacherProbabilities;
        using (Torch.Torch.NoGrad())
            teacherProbabilities = ((maskedTeacherScores - _model.MimCenter) / mim.TeacherTemperature).Softmax(-1);
        return GlobalMean(Losses.KlDiv(logStudent, teacherProbabilities, Reduction.Sum), _globalMaskedPatches);
    }
}
