using CommerceMM.Torch.Interop;

namespace CommerceMM.Torch.Optim;

/// <summary>
/// AdamW (Loshchilov and Hutter) with decoupled weight decay, matching torch.optim.AdamW step for step.
/// Weight decay applies to matrices only: tensors with fewer than 2 dimensions (biases, LayerNorm
/// scales and shifts, the logit scale) are not decayed, the usual rule for transformers.
/// The whole update is one native call per step.
/// </summary>
public sealed partial class AdamW : IDisposable
{
    private readonly (string Name, Tensor Param)[] _params;
    private readonly Tensor[] _expAvg;
    private readonly Tensor[] _expAvgSq;
    private readonly double[] _weightDecay;
    private readonly AdamWOptions _options;

    public AdamW(IEnumerable<(string Name, Tensor Param)> parameters, AdamWOptions? options = null)
    {
        _options = options ?? new AdamWOptions();
        _options.Validate();
        _params = parameters.ToArray();
        if (_params.Select(p => p.Name).Distinct().Count() != _params.Length)
            throw new ArgumentException("parameter names must be unique", nameof(parameters));
        _expAvg = _params.Select(p => DisposeScope.Detach(Torch.ZerosLike(p.Param))).ToArray();
        _expAvgSq = _params.Select(p => DisposeScope.Detach(Torch.ZerosLike(p.Param))).ToArray();
        _weightDecay = _params.Select(p => p.Param.Dim >= 2 ? _options.WeightDecay : 0.0).ToArray();
    }

    /// <summary>Optimizer steps taken so far (PyTorch's per-parameter "step", shared here).</summary>
    public long StepCount { get; private set; }

    public IReadOnlyList<(string Name, Tensor Param)> Parameters => _params;

    /// <summary>Applies one update with learning rate lr to every parameter that has a gradient.</summary>
    public unsafe void Step(double lr)
    {
        if (!(lr >= 0)) throw new ArgumentOutOfRangeException(nameof(lr), lr, "learning rate must be a non-negative number");
        int n = _params.Length;
        IntPtr* p = stackalloc IntPtr[n];
        IntPtr* m = stackalloc IntPtr[n];
        IntPtr* v = stackalloc IntPtr[n];
        for (int i = 0; i < n; i++)
        {
            p[i] = _params[i].Param.Handle.DangerousGetHandle();
            m[i] = _expAvg[i].Handle.DangerousGetHandle();
            v[i] = _expAvgSq[i].Handle.DangerousGetHandle();
        }
        fixed (double* wd = _weightDecay)
            NativeError.Check(NativeMethods.cmm_adamw_step(p, m, v, wd, n, StepCount + 1, lr, _options.Beta1, _options.Beta2, _options.Eps), "AdamW step");
        StepCount++;
        GC.KeepAlive(this);
    }

    /// <summary>Clears every parameter's gradient.</summary>
    public void ZeroGrad()
    {
        foreach (var (_, p) in _params) p.Grad = null;
    }

    /// <summary>The moments by name ("&lt;param&gt;.exp_avg", "&lt;param&gt;.exp_avg_sq"), for checkpoints. Not copies.</summary>
    public IReadOnlyList<(string Name, Tensor Tensor)> StateTensors()
    {
        var result = new List<(string, Tensor)>(2 * _params.Length);
        for (int i = 0; i < _params.Length; i++)
        {
            result.Add((_params[i].Name + ".exp_avg", _expAvg[i]));
            result.Add((_params[i].Name + ".exp_avg_sq", _expAvgSq[i]));
        }
        return result;
    }

    /// <summary>Restores moments and step count saved from an optimizer over the same parameter names.</summary>
    public void LoadState(IReadOnlyDictionary<string, Tensor> tensors, long stepCount)
    {
        if (stepCount < 0) throw new ArgumentOutOfRangeException(nameof(stepCount), stepCount, "must be >= 0");
        var own = StateTensors();
        foreach (var (name, target) in own)
        {
            if (!tensors.TryGetValue(name, out var source)) throw new ArgumentException($"optimizer state lacks '{name}'");
            if (!source.Shape.SequenceEqual(target.Shape))
                throw new ArgumentException($"optimizer state '{name}' has shape {Tensor.FormatShape(source.Shape)}, expected {Tensor.FormatShape(target.Shape)}");
        }
        using (Torch.NoGrad())
            foreach (var (name, target) in own) target.CopyFrom(tensors[name]);
        StepCount = stepCount;
    }

    public void Dispose()
    {
        foreach (var t in _expAvg) t.Dispose();
        foreach (var t in _expAvgSq) t.Dispose();
    }
}
