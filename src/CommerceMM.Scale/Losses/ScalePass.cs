using CommerceMM.Model.Training;
using CommerceMM.Scale.Config;
using CommerceMM.Torch;

namespace CommerceMM.Scale.Losses;

/// <summary>
/// One SCALE forward (MODEL.md §8) on a batch with its mask plan: encode (masked inputs) and fuse,
/// harmonized weights from the pooled embeddings, then 5 masked losses and 10 pair losses. A missing
/// modality is out of attention and out of every loss: a pair is scored only over samples having both.
/// The caller back-propagates <see cref="ScaleOutput.Total"/> once.
/// </summary>
/// <remarks>
/// (ours) One forward on the masked inputs serves both the masked and the contrastive losses, as
/// BERT-style pre-training does; the pooled embeddings come from each modality's own encoder, not the
/// fusion, so a pair cannot be matched by attention copying one modality into the other, and retrieval
/// can sum per-modality features without running the fusion.
/// </remarks>
public sealed class ScalePass
{
    private readonly ScaleModel _model;
    private readonly ScaleMaskPlan _plan;
    private readonly Collectives _collectives;
    private readonly bool[,] _presence;
    private readonly long _rows;
    private ScaleEncoding _encoding = null!;
    private Tensor _weights = null!;
    private bool[,] _gatheredPresence = null!;
    private readonly Dictionary<ScaleModality, MaskedUnits> _masked = [];
    private long _offset;
    private readonly Dictionary<ScaleModality, Tensor> _gathered = [];

    private ScalePass(ScaleModel model, ScaleMaskPlan plan, Collectives collectives, bool[,] presence)
    {
        (_model, _plan, _collectives, _presence) = (model, plan, collectives, presence);
        _rows = presence.GetLength(0);
    }

    /// <param name="weight">the loss weight of a task id (0 disables it)</param>
    /// <exception cref="ArgumentException">A row has no enabled modality, or an input has the wrong shape (the message says which).</exception>
    public static ScaleOutput Run(ScaleModel model, ScaleInputs inputs, ScaleMaskPlan plan, Collectives collectives, Func<string, double> weight)
    {
        var config = model.Config;
        var presence = inputs.EffectivePresence(config);
        var output = new ScaleOutput();
        using var scope = DisposeScope.Open();
        var pass = new ScalePass(model, plan, collectives, presence);
        var present = PresenceTensor(presence);
        pass._encoding = model.Encode(inputs, present, plan);
        pass._weights = HarmonizedWeights.Compute(pass.StackPooled(present), present);
        output.SetWeights(pass._weights, presence, config.Modalities);
        pass.GatherPresence();
        pass.CountMaskedUnits();

        foreach (var m in ScaleModalities.All)
        {
            string task = ScaleTaskIds.Masked(m);
            output.Add(task, config.Enabled(m) ? weight(task) : 0, () => pass.Masked(m));
        }
        foreach (var (a, b) in ScaleModalities.Pairs)
        {
            string task = ScaleTaskIds.Pair(a, b);
            output.Add(task, config.Enabled(a) && config.Enabled(b) ? weight(task) : 0, () => pass.Pair(a, b));
        }
        return output;
    }

    internal static Tensor PresenceTensor(bool[,] presence)
    {
        int rows = presence.GetLength(0), k = ScaleModalities.Count;
        var flat = new bool[rows * k];
        for (int r = 0; r < rows; r++)
            for (int m = 0; m < k; m++) flat[r * k + m] = presence[r, m];
        return Torch.Torch.FromArray(flat, rows, k);
    }

    /// <summary>(B, 5, E): each modality's pooled embedding, zeros for modalities the model does not enable.</summary>
    private Tensor StackPooled(Tensor present)
    {
        var zeros = Torch.Torch.Zeros([_rows, _model.Config.EmbedDim]);
        return Torch.Torch.Stack(ScaleModalities.All.Select(m => _encoding[m]?.Pooled ?? zeros).ToList(), 1);
    }

    /// <summary>All ranks' presence rows in rank order, and where this rank's rows start.</summary>
    private void GatherPresence()
    {
        (_offset, long total) = _collectives.RowSpan(_rows);
        using var local = PresenceTensor(_presence).To(DType.Float32);
        using var all = _collectives.GatherWithGrad(local);
        float[] flat = all.ToArray<float>();
        int k = ScaleModalities.Count;
        _gatheredPresence = new bool[total, k];
        for (long r = 0; r < total; r++)
            for (int m = 0; m < k; m++) _gatheredPresence[r, m] = flat[r * k + m] > 0.5f;
    }

    /// <summary>A masked modality's selected units (B, L or N), units per row, and rows with units on every rank.</summary>
    private sealed record MaskedUnits(Tensor? Labels, Tensor Selected, bool[] Flat, int[] PerRow, long GlobalRows);

    /// <summary>
    /// Which units each masked modality selected, and how many rows have any on all ranks together: one
    /// small all-reduce for every modality (the plan masks the same modalities on every rank).
    /// </summary>
    private void CountMaskedUnits()
    {
        var local = new List<(ScaleModality M, Tensor? Labels, Tensor Selected, bool[] Flat, int[] PerRow)>();
        foreach (var m in ScaleModalities.All)
        {
            var labels = m switch { ScaleModality.Text => _plan.TextLabels, ScaleModality.Table => _plan.TableLabels, _ => null };
            var selected = labels?.Ne(ScaleMaskPlan.Ignore) ?? _plan.FeatureMask(m);           // (B, L) or (B, N)
            if (selected is null) continue;                                                   // not masked (config or weight 0)
            bool[] flat = selected.ToArray<bool>();
            long length = selected.Size(1);
            var perRow = new int[_rows];
            for (long i = 0; i < flat.Length; i++) if (flat[i]) perRow[i / length]++;
            local.Add((m, labels, selected, flat, perRow));
        }
        if (local.Count == 0) return;
        long[] global = _collectives.SumCounts(local.Select(x => (long)x.PerRow.Count(c => c > 0)).ToArray());
        for (int i = 0; i < local.Count; i++)
            _masked[local[i].M] = new MaskedUnits(local[i].Labels, local[i].Selected, local[i].Flat, local[i].PerRow, global[i]);
    }

    /// <summary>
    /// Mean over rows having m (with at least one masked unit) of W[r, m, m] × that row's mean loss over
    /// its masked units: cross-entropy for text and table tokens, MSE over the features for
    /// image patches, video frames and audio frames. Null (absent) when no rank masked anything. The mean
    /// runs over every rank's rows (<see cref="CountMaskedUnits"/>), scaled by the world size because
    /// parameter gradients are averaged: N ranks then train exactly as one process on their union.
    /// </summary>
    private Tensor? Masked(ScaleModality m)
    {
        if (!_masked.TryGetValue(m, out var units) || units.GlobalRows == 0) return null;
        var (labels, selected, counts) = (units.Labels, units.Selected, units.PerRow);
        if (!counts.Any(c => c > 0)) return Torch.Torch.Scalar(0);                           // other ranks hold every masked row
        long length = selected.Size(1);

        var part = _encoding[m]!;
        Tensor perUnit;
        if (labels is not null)
        {
            var head = m == ScaleModality.Text ? _model.TextHead : _model.TableHead;
            var logits = head.Forward(part.Fused.MaskedSelectRows(selected));                 // (S, V)
            perUnit = CommerceMM.Torch.Losses.CrossEntropy(logits, labels.MaskedSelectRows(selected), Reduction.None); // (S)
        }
        else
        {
            var fused = part.Fused.Slice(1, 1, length + 1);                                    // (B, N, d): [CLS] dropped
            var regression = m == ScaleModality.Image ? _model.ImageHead : m == ScaleModality.Video ? _model.VideoHead : _model.AudioHead;
            var predicted = regression.Forward(fused.MaskedSelectRows(selected));              // (S, F)
            var target = part.Features!.MaskedSelectRows(selected);                            // (S, F)
            perUnit = (predicted - target).Pow(2).Mean(-1);                                    // (S)
        }
        // Units come out row-major; each is weighted so a row's units share W[r, m, m] · world / (units · global rows).
        var rowOfUnit = new List<long>();
        var share = new List<float>();
        for (long i = 0; i < units.Flat.Length; i++)
        {
            if (!units.Flat[i]) continue;
            rowOfUnit.Add(i / length);
            share.Add((float)((double)_collectives.World / (counts[i / length] * units.GlobalRows)));
        }
        var diagonal = _weights.Select(1, (long)m).Select(1, (long)m);                        // (B)
        if (!_model.Config.MaskedWeightGradient) diagonal = diagonal.Detach();                 // see ScaleConfig.MaskedWeightGradient
        var unitWeights = diagonal.IndexSelect(0, Torch.Torch.FromArray(rowOfUnit.ToArray())) * Torch.Torch.FromArray(share.ToArray());
        return (perUnit * unitWeights).Sum();
    }

    /// <summary>
    /// Symmetric InfoNCE between a and b over the samples having both (temperature τ): row i's logits
    /// against every eligible sample of the global batch are multiplied by its pair weight W[i, a, b]
    /// (W[i, b, a] for b→a). Local rows × gathered columns, normalised by the global eligible count, so
    /// averaged gradients over ranks equal the single-process gradient (MODEL.md §5). Absent with fewer
    /// than 2 eligible samples (no negative).
    /// </summary>
    private Tensor? Pair(ScaleModality a, ScaleModality b)
    {
        long total = _gatheredPresence.GetLength(0);
        var globalRows = new List<long>();
        for (long r = 0; r < total; r++)
            if (_gatheredPresence[r, (int)a] && _gatheredPresence[r, (int)b]) globalRows.Add(r);
        if (globalRows.Count < 2) return null;
        // Every rank gathers, even one without eligible rows: a collective all ranks must join.
        Gathered(a);
        Gathered(b);
        var localRows = new List<long>();
        var labels = new List<long>();
        for (int i = 0; i < globalRows.Count; i++)
        {
            long r = globalRows[i] - _offset;
            if (r < 0 || r >= _rows) continue;
            localRows.Add(r);
            labels.Add(i);
        }
        if (localRows.Count == 0) return Torch.Torch.Scalar(0);   // other ranks hold every eligible row
        var local = Torch.Torch.FromArray(localRows.ToArray());
        var columns = Torch.Torch.FromArray(globalRows.ToArray());
        var target = Torch.Torch.FromArray(labels.ToArray());
        double scale = (double)_collectives.World / globalRows.Count;

        Tensor Direction(ScaleModality q, ScaleModality k)
        {
            var queries = _encoding[q]!.Pooled.IndexSelect(0, local);                         // (n, E)
            var keys = Gathered(k).IndexSelect(0, columns);                                    // (G, E)
            var pairWeight = _weights.Select(1, (long)q).Select(1, (long)k).IndexSelect(0, local); // (n)
            return ScaleContrastive.Sum(queries, keys, target, pairWeight, _model.Config.Temperature);
        }

        return (Direction(a, b) + Direction(b, a)) * (0.5 * scale);
    }

    private Tensor Gathered(ScaleModality m)
    {
        if (!_gathered.TryGetValue(m, out var all)) _gathered[m] = all = _collectives.GatherWithGrad(_encoding[m]!.Pooled);
        return all;
    }
}
