using System.Globalization;
using CommerceMM.Model.NN;
using CommerceMM.Tensors;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CommerceMM.Model.Training;

/// <summary>
/// torch.optim.AdamW (decoupled weight decay) over named parameters, with the rules this product
/// relies on: weight decay only for matrices (tensors with fewer than 2 dimensions — biases, LayerNorm
/// scales and shifts, the logit scale — are not decayed), one step count shared by all parameters (so
/// the whole state is one number plus the moments), the learning rate given per step, and checkpoints
/// in today's safetensors format.
/// </summary>
/// <remarks>
/// The parameters, their gradients and both moments live in flat buffers (<see cref="FlatParameters"/>), decayed
/// parameters first. On the CPU a step is one fused pass over them (<see cref="AdamWCpuKernel"/>); elsewhere the same
/// element-wise ops as PyTorch's single-tensor AdamW, applied once to each whole buffer, not once per parameter. A
/// parameter without a gradient is left exactly as it was (PyTorch skips it).
/// </remarks>
public sealed class AdamWOptimizer : IDisposable
{
    private const string StepKey = "adamw.step";

    private readonly (string Name, Parameter Param)[] _params;
    private readonly int[] _flatIndex;      // _params[i] is Flat.Parameters[_flatIndex[i]]
    private readonly long _decayedLength;   // the decayed parameters fill the flat buffers' first elements
    private readonly AdamWOptions _options;
    private readonly Tensor _expAvg;
    private readonly Tensor _expAvgSq;
    private readonly (string Name, Tensor Tensor)[] _stateViews;   // views of the moments, in parameter order

    public AdamWOptimizer(IEnumerable<(string Name, Tensor Param)> parameters, AdamWOptions? options = null)
    {
        _options = options ?? new AdamWOptions();
        _options.Validate();
        _params = parameters.Select(p => (p.Name, p.Param as Parameter ?? throw new ArgumentException($"'{p.Name}' is not a Parameter (wrap it: new Parameter(tensor))"))).ToArray();
        if (_params.Select(p => p.Name).Distinct().Count() != _params.Length)
            throw new ArgumentException("parameter names must be unique", nameof(parameters));
        var flatOrder = Enumerable.Range(0, _params.Length).OrderBy(i => _params[i].Param.dim() >= 2 ? 0 : 1).ToArray();   // stable: decayed first
        Flat = new FlatParameters(flatOrder.Select(i => (_params[i].Name, (Tensor)_params[i].Param)).ToList());
        _flatIndex = new int[_params.Length];
        for (int f = 0; f < flatOrder.Length; f++) _flatIndex[flatOrder[f]] = f;
        _decayedLength = flatOrder.Where(i => _params[i].Param.dim() >= 2).Sum(i => _params[i].Param.numel());
        _expAvg = torch.zeros_like(Flat.Values).DetachFromDisposeScope();
        _expAvgSq = torch.zeros_like(Flat.Values).DetachFromDisposeScope();
        _stateViews = _params.SelectMany((p, i) => new[]
        {
            (p.Name + ".exp_avg", Flat.Segment(_expAvg, _flatIndex[i]).view(p.Param.shape).DetachFromDisposeScope()),
            (p.Name + ".exp_avg_sq", Flat.Segment(_expAvgSq, _flatIndex[i]).view(p.Param.shape).DetachFromDisposeScope()),
        }).ToArray();
    }

    /// <summary>The flat parameter and gradient buffers this optimizer updates (for the all-reduce and clipping).</summary>
    public FlatParameters Flat { get; }

    /// <summary>Optimizer steps taken so far (PyTorch's per-parameter "step", shared here).</summary>
    public long StepCount { get; private set; }

    public IReadOnlyList<(string Name, Parameter Param)> Parameters => _params;

    /// <summary>
    /// Applies one update with learning rate <paramref name="lr"/> to every parameter that has a gradient, each gradient
    /// scaled by <paramref name="gradScale"/> (<see cref="GradientClipping.Coefficient"/>). The gradients are spent
    /// afterwards (the GPU's path scales them in place): zero them before the next backward.
    /// </summary>
    public void Step(double lr, double gradScale = 1)
    {
        if (!(lr >= 0)) throw new ArgumentOutOfRangeException(nameof(lr), lr, "learning rate must be a non-negative number");
        if (!(gradScale > 0) || double.IsInfinity(gradScale)) throw new ArgumentOutOfRangeException(nameof(gradScale), gradScale, "gradient scale must be a positive number");
        bool[] has = Flat.GatherGradients();
        // One shared count: a parameter that sat out earlier steps still corrects its bias for this one.
        long t = ++StepCount;
        if (!has.Contains(true)) return;
        double biasCorrection1 = 1 - Math.Pow(_options.Beta1, t), biasCorrection2 = 1 - Math.Pow(_options.Beta2, t);
        double decay = _options.WeightDecay > 0 ? 1 - lr * _options.WeightDecay : 1;
        var scalars = new AdamWScalars(
            (float)gradScale, (float)decay, (float)_options.Beta1, (float)(1 - _options.Beta1), (float)_options.Beta2, (float)(1 - _options.Beta2), (float)_options.Eps, (float)(-lr / biasCorrection1), (float)Math.Sqrt(biasCorrection2));
        if (Flat.Values.device_type == DeviceType.CPU && !TensorOpsOnCpu) AdamWCpuKernel.Apply(Flat, _expAvg, _expAvgSq, GradientRanges(has), _decayedLength, scalars);
        else StepWithTensorOps(has, scalars);
    }

    /// <summary>Tests: the update as tensor ops (the GPU's path) on the CPU too, to compare with the fused CPU kernel.</summary>
    internal bool TensorOpsOnCpu { get; init; }

    /// <summary>The flat element ranges of the parameters that have a gradient, neighbours merged.</summary>
    private List<(long Start, long End)> GradientRanges(bool[] has)
    {
        var ranges = new List<(long Start, long End)>();
        for (int i = 0; i < has.Length; i++)
        {
            if (!has[i]) continue;
            long start = Flat.Offsets[i], end = start + Flat.Parameters[i].numel();
            if (ranges.Count > 0 && ranges[^1].End == start) ranges[^1] = (ranges[^1].Start, end);
            else ranges.Add((start, end));
        }
        return ranges;
    }

    /// <summary>The update as whole-buffer ops, as PyTorch's single-tensor AdamW does it (on a GPU each op is one kernel over the flat buffer).</summary>
    private void StepWithTensorOps(bool[] has, AdamWScalars s)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var untouched = Enumerable.Range(0, has.Length).Where(i => !has[i])
            .Select(i => (Index: i, Saved: new[] { Flat.Values, _expAvg, _expAvgSq }.Select(b => Flat.Segment(b, i).clone()).ToArray())).ToList();

        // Held, every one (CMM0001): this runs every step, where a temporary Scalar would meet the finalizer race.
        using var scale = s.GradScale.ToScalar();
        using var decay = s.Decay.ToScalar();
        using var b1 = s.Beta1.ToScalar();
        using var oneMinusB1 = s.OneMinusBeta1.ToScalar();
        using var b2 = s.Beta2.ToScalar();
        using var oneMinusB2 = s.OneMinusBeta2.ToScalar();
        using var sqrtBias2 = s.SqrtBiasCorrection2.ToScalar();
        using var eps = s.Eps.ToScalar();
        using var stepSize = s.StepSize.ToScalar();
        if (_decayedLength > 0 && s.Decay != 1) Flat.Values.narrow(0, 0, _decayedLength).mul_(decay);
        var g = s.GradScale == 1 ? Flat.Gradients : Flat.Gradients.mul_(scale);
        _expAvg.mul_(b1).add_(g, alpha: oneMinusB1);
        _expAvgSq.mul_(b2).addcmul_(g, g, value: oneMinusB2);
        var denom = _expAvgSq.sqrt().div_(sqrtBias2).add_(eps, HeldScalars.One);
        Flat.Values.addcdiv_(_expAvg, denom, value: stepSize);

        foreach (var (i, saved) in untouched)
        {
            Flat.Segment(Flat.Values, i).copy_(saved[0]);
            Flat.Segment(_expAvg, i).copy_(saved[1]);
            Flat.Segment(_expAvgSq, i).copy_(saved[2]);
        }
    }

    /// <summary>Clears every parameter's gradient (set to none: a parameter no task touches is then not updated).</summary>
    public void ZeroGrad() => Flat.ClearGradients();

    /// <summary>The moments by name ("&lt;param&gt;.exp_avg", "&lt;param&gt;.exp_avg_sq"), for checkpoints. Not copies.</summary>
    public IReadOnlyList<(string Name, Tensor Tensor)> StateTensors() => _stateViews;

    /// <summary>Restores moments (onto the parameters' device) and the step count saved from an optimizer over the same parameter names.</summary>
    public void LoadState(IReadOnlyDictionary<string, Tensor> tensors, long stepCount)
    {
        if (stepCount < 0) throw new ArgumentOutOfRangeException(nameof(stepCount), stepCount, "must be >= 0");
        var own = StateTensors();
        foreach (var (name, target) in own)
        {
            if (!tensors.TryGetValue(name, out var source)) throw new ArgumentException($"optimizer state lacks '{name}'");
            if (!source.shape.SequenceEqual(target.shape))
                throw new ArgumentException($"optimizer state '{name}' has shape {TensorMemory.FormatShape(source.shape)}, expected {TensorMemory.FormatShape(target.shape)}");
        }
        using (torch.no_grad())
            foreach (var (name, target) in own) target.copy_(tensors[name]);
        StepCount = stepCount;
    }

    /// <summary>The state file's metadata: the step count (the moments are <see cref="StateTensors"/>).</summary>
    public IReadOnlyDictionary<string, string> StateMetadata => new Dictionary<string, string> { [StepKey] = StepCount.ToString(CultureInfo.InvariantCulture) };

    public void Load(Stream stream, string source)
    {
        using var file = SafeTensors.Read(stream, source);
        if (!file.Metadata.TryGetValue(StepKey, out var stepText) || !long.TryParse(stepText, CultureInfo.InvariantCulture, out long step))
            throw new InvalidDataException($"{source}: not an AdamW state file (metadata '{StepKey}' missing or not a number)");
        LoadState(file.ByName, step);
    }

    public void Dispose()
    {
        foreach (var (_, view) in _stateViews) view.Dispose();
        Flat.Dispose();
        _expAvg.Dispose();
        _expAvgSq.Dispose();
    }
}
