using CommerceMM.Model.NN;
using CommerceMM.Model.Training;
using CommerceMM.Scale.Config;
using CommerceMM.Tensors;
using TorchSharp;
using static TorchSharp.torch;

namespace CommerceMM.Scale.Losses;

/// <summary>
/// One SCALE forward (MODEL.md §8) on a batch with its mask plan: encode (masked inputs) and fuse,
/// harmonized weights from the pooled embeddings, then 5 masked losses and 10 pair losses. A missing
/// modality is out of attention and out of every loss: a pair is scored only over samples having both.
/// The caller back-propagates <see cref="ScaleOutput.Total"/> once. Every tensor of the step lives on the
/// model's device; the batch and the plan are moved there when they are elsewhere.
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
    private readonly ModelCollectives _collectives;
    private readonly bool[,] _presence;
    private readonly long _rows;
    private readonly Device _device;
    private ScaleEncoding _encoding = null!;
    private Tensor _weights = null!;
    private bool[,] _gatheredPresence = null!;
    private readonly Dictionary<ScaleModality, MaskedUnits> _masked = [];
    private long _offset;
    private readonly Dictionary<ScaleModality, Tensor> _gathered = [];

    private ScalePass(ScaleModel model, ScaleMaskPlan plan, ModelCollectives collectives, bool[,] presence)
    {
        (_model, _plan, _collectives, _presence) = (model, plan, collectives, presence);
        _rows = presence.GetLength(0);
        _device = model.Device;
    }

    /// <param name="weight">the loss weight of a task id (0 disables it)</param>
    /// <exception cref="ArgumentException">A row has no enabled modality, or an input has the wrong shape (the message says which).</exception>
    public static ScaleOutput Run(ScaleModel model, ScaleInputs inputs, ScaleMaskPlan plan, ModelCollectives collectives, Func<string, double> weight)
    {
        var config = model.Config;
        var presence = inputs.EffectivePresence(config);
        var output = new ScaleOutput();
        using var region = model.ComputeRegion();
        using var scope = NewDisposeScope();
        var device = model.Device;
        inputs = inputs.To(device);
        using var onDevice = plan.To(device);
        var pass = new ScalePass(model, onDevice, collectives, presence);
        var present = PresenceTensor(presence, device);
        pass._encoding = model.Encode(inputs, present, onDevice);
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

    /// <summary>(rows, 5) bool on <paramref name="device"/>.</summary>
    internal static Tensor PresenceTensor(bool[,] presence, Device device)
    {
        int rows = presence.GetLength(0), k = ScaleModalities.Count;
        var flat = new bool[rows * k];
        for (int r = 0; r < rows; r++)
            for (int m = 0; m < k; m++) flat[r * k + m] = presence[r, m];
        return tensor(flat, [rows, k], device: device);
    }

    /// <summary>(B, 5, E): each modality's pooled embedding, zeros for modalities the model does not enable.</summary>
    private Tensor StackPooled(Tensor present)
    {
        var none = zeros(_rows, _model.Config.EmbedDim, dtype: _encoding.Parts[0].Pooled.dtype, device: _device);
        return stack(ScaleModalities.All.Select(m => _encoding[m]?.Pooled ?? none).ToList(), 1);
    }

    /// <summary>All ranks' presence rows in rank order, and where this rank's rows start.</summary>
    private void GatherPresence()
    {
        (_offset, long total) = _collectives.RowSpan(_rows);
        using var local = PresenceTensor(_presence, _device).to(ScalarType.Float32);
        using var all = _collectives.GatherWithGrad(local);
        float[] flat = Scalars.ToArray<float>(all);
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
            bool[] flat = Scalars.ToArray<bool>(selected);
            long length = selected.size(1);
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
        if (!counts.Any(c => c > 0)) return tensor(0f, device: _device);                    // other ranks hold every masked row
        long length = selected.size(1);

        var part = _encoding[m]!;
        Tensor perUnit;
        if (labels is not null)
        {
            var head = m == ScaleModality.Text ? _model.TextHead : _model.TableHead;
            var logits = head.Forward(part.Fused[selected]);                                   // (S, V)
            perUnit = nn.functional.cross_entropy(logits, labels[selected], reduction: nn.Reduction.None); // (S)
        }
        else
        {
            var fused = part.Fused.narrow(1, 1, length);                                       // (B, N, d): [CLS] dropped
            var regression = m == ScaleModality.Image ? _model.ImageHead : m == ScaleModality.Video ? _model.VideoHead : _model.AudioHead;
            var predicted = MixedPrecision.Float(MixedPrecision.Linear(regression, fused[selected])); // (S, F) fp32
            var target = part.Features![selected];                                             // (S, F)
            perUnit = (predicted - target).Square().mean([-1]);                                  // (S)
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
        var diagonal = _weights.select(1, (long)m).select(1, (long)m);                        // (B)
        if (!_model.Config.MaskedWeightGradient) diagonal = diagonal.detach();                 // see ScaleConfig.MaskedWeightGradient
        var unitWeights = diagonal.index_select(0, tensor(rowOfUnit.ToArray(), device: _device)) * tensor(share.ToArray(), device: _device);
        return (perUnit * unitWeights).sum();
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
        // Other ranks hold every eligible row. The loss still depends on both gathers, with weight 0: their backward is an
        // all-reduce that every rank must join, and a rank that skipped it left the others' next collective mismatched
        // (Gloo aborted the process: "op.preamble.length <= op.nbytes").
        if (localRows.Count == 0) return Gathered(a).sum().Add(Gathered(b).sum()).Mul(0.0);
        var local = tensor(localRows.ToArray(), device: _device);
        var columns = tensor(globalRows.ToArray(), device: _device);
        var target = tensor(labels.ToArray(), device: _device);
        double scale = (double)_collectives.World / globalRows.Count;

        Tensor Direction(ScaleModality q, ScaleModality k)
        {
            var queries = _encoding[q]!.Pooled.index_select(0, local);                        // (n, E)
            var keys = Gathered(k).index_select(0, columns);                                   // (G, E)
            var pairWeight = _weights.select(1, (long)q).select(1, (long)k).index_select(0, local); // (n)
            return ScaleContrastive.Sum(queries, keys, target, pairWeight, _model.Config.Temperature);
        }

        return Direction(a, b).Add(Direction(b, a)).Mul(0.5 * scale);
    }

    private Tensor Gathered(ScaleModality m)
    {
        if (!_gathered.TryGetValue(m, out var all)) _gathered[m] = all = _collectives.GatherWithGrad(_encoding[m]!.Pooled);
        return all;
    }
}
