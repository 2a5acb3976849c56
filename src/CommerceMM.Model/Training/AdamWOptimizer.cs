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
/// scales and shifts, the logit scale — are not decayed, two parameter groups), one step count shared
/// by all parameters (so the whole state is one number plus the moments), the learning rate given per
/// step, and checkpoints in today's safetensors format.
/// </summary>
public sealed class AdamWOptimizer : IDisposable
{
    private const string StepKey = "adamw.step";

    private readonly (string Name, Parameter Param)[] _params;
    private readonly AdamW.State[] _states;
    private readonly AdamW _adamW;

    public AdamWOptimizer(IEnumerable<(string Name, Tensor Param)> parameters, AdamWOptions? options = null)
    {
        var o = options ?? new AdamWOptions();
        o.Validate();
        _params = parameters.Select(p => (p.Name, p.Param as Parameter ?? throw new ArgumentException($"'{p.Name}' is not a Parameter (wrap it: new Parameter(tensor))"))).ToArray();
        if (_params.Select(p => p.Name).Distinct().Count() != _params.Length)
            throw new ArgumentException("parameter names must be unique", nameof(parameters));
        var decayed = _params.Where(p => p.Param.dim() >= 2).ToArray();
        var plain = _params.Where(p => p.Param.dim() < 2).ToArray();
        var groups = new List<AdamW.ParamGroup>();
        if (decayed.Length > 0) groups.Add(Group(decayed, o.WeightDecay, o));
        if (plain.Length > 0) groups.Add(Group(plain, 0, o));
        _adamW = new AdamW(groups, lr: 0, beta1: o.Beta1, beta2: o.Beta2, eps: o.Eps, weight_decay: 0);
        // The state list follows the groups' parameter order.
        var ordered = decayed.Concat(plain).Select(p => p.Name).ToList();
        var states = _adamW.state_dict().State.Cast<AdamW.State>().ToList();
        var byName = ordered.Zip(states).ToDictionary(x => x.First, x => x.Second);
        _states = _params.Select(p => byName[p.Name]).ToArray();

        static AdamW.ParamGroup Group((string, Parameter Param)[] members, double weightDecay, AdamWOptions o) =>
            new(members.Select(m => m.Param).ToList(), lr: 0, beta1: o.Beta1, beta2: o.Beta2, eps: o.Eps, weight_decay: weightDecay);
    }

    /// <summary>Optimizer steps taken so far (PyTorch's per-parameter "step", shared here).</summary>
    public long StepCount { get; private set; }

    public IReadOnlyList<(string Name, Parameter Param)> Parameters => _params;

    /// <summary>Applies one update with learning rate lr to every parameter that has a gradient.</summary>
    public void Step(double lr)
    {
        if (!(lr >= 0)) throw new ArgumentOutOfRangeException(nameof(lr), lr, "learning rate must be a non-negative number");
        foreach (var group in _adamW.ParamGroups) group.LearningRate = lr;
        // One shared count: a parameter that sat out earlier steps still corrects its bias for this one.
        foreach (var state in _states) state.step = StepCount;
        _adamW.step();
        StepCount++;
    }

    /// <summary>Clears every parameter's gradient (set to none: a parameter no task touches is then not updated).</summary>
    public void ZeroGrad()
    {
        foreach (var (_, p) in _params) p.grad = null;
    }

    /// <summary>The moments by name ("&lt;param&gt;.exp_avg", "&lt;param&gt;.exp_avg_sq"), for checkpoints. Not copies.</summary>
    public IReadOnlyList<(string Name, Tensor Tensor)> StateTensors()
    {
        var result = new List<(string, Tensor)>(2 * _params.Length);
        for (int i = 0; i < _params.Length; i++)
        {
            result.Add((_params[i].Name + ".exp_avg", _states[i].exp_avg));
            result.Add((_params[i].Name + ".exp_avg_sq", _states[i].exp_avg_sq));
        }
        return result;
    }

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

    /// <summary>The state as a safetensors file: the moments as tensors, the step count in the metadata.</summary>
    public void Save(Stream stream) =>
        SafeTensors.Write(stream, StateTensors(), new Dictionary<string, string> { [StepKey] = StepCount.ToString(CultureInfo.InvariantCulture) });

    public void Load(Stream stream, string source)
    {
        using var file = SafeTensors.Read(stream, source);
        if (!file.Metadata.TryGetValue(StepKey, out var stepText) || !long.TryParse(stepText, CultureInfo.InvariantCulture, out long step))
            throw new InvalidDataException($"{source}: not an AdamW state file (metadata '{StepKey}' missing or not a number)");
        LoadState(file.ByName, step);
    }

    public void Dispose() => _adamW.Dispose();
}
