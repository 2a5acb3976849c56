namespace CommerceMM.Torch.NN;

/// <summary>
/// A network component that owns named parameters, buffers and submodules. Names are registered in
/// construction order, so <see cref="StateDict"/> has a stable order and dotted names
/// ("layers.0.self_attn.in_proj_weight") that match PyTorch's for the same structure.
/// Parameters and buffers are owned here, outside any <see cref="DisposeScope"/>.
/// </summary>
public abstract class Module : IDisposable
{
    private readonly List<(string Name, Tensor Tensor)> _parameters = [];
    private readonly List<(string Name, Tensor Tensor)> _buffers = [];
    private readonly List<(string Name, Module Module)> _modules = [];
    private bool _disposed;

    /// <summary>True in training mode (dropout active); see <see cref="Train"/>.</summary>
    public bool Training { get; private set; } = true;

    protected Tensor RegisterParameter(string name, Tensor tensor)
    {
        CheckName(name);
        DisposeScope.Detach(tensor);
        tensor.RequiresGrad = true;
        _parameters.Add((name, tensor));
        return tensor;
    }

    /// <summary>State that is saved and loaded but not trained (e.g. an EMA teacher's centre).</summary>
    protected Tensor RegisterBuffer(string name, Tensor tensor)
    {
        CheckName(name);
        DisposeScope.Detach(tensor);
        _buffers.Add((name, tensor));
        return tensor;
    }

    protected T RegisterModule<T>(string name, T module) where T : Module
    {
        CheckName(name);
        _modules.Add((name, module));
        return module;
    }

    public IEnumerable<(string Name, Tensor Tensor)> NamedParameters() => Walk(m => m._parameters);

    public IEnumerable<(string Name, Tensor Tensor)> NamedBuffers() => Walk(m => m._buffers);

    public IEnumerable<Tensor> Parameters() => NamedParameters().Select(p => p.Tensor);

    public IEnumerable<(string Name, Module Module)> NamedChildren() => _modules;

    /// <summary>Parameters then buffers of every module, depth first, in registration order.</summary>
    public IReadOnlyList<(string Name, Tensor Tensor)> StateDict()
    {
        var result = new List<(string, Tensor)>();
        Collect(this, "", result);
        return result;

        static void Collect(Module module, string prefix, List<(string, Tensor)> into)
        {
            foreach (var (name, t) in module._parameters) into.Add((prefix + name, t));
            foreach (var (name, t) in module._buffers) into.Add((prefix + name, t));
            foreach (var (name, child) in module._modules) Collect(child, prefix + name + ".", into);
        }
    }

    /// <summary>
    /// Copies tensors into this module's parameters and buffers by name. Every entry must exist with
    /// the same shape; with strict, every parameter and buffer must be given. Nothing is changed
    /// unless all checks pass.
    /// </summary>
    public void LoadStateDict(IReadOnlyDictionary<string, Tensor> state, bool strict = true)
    {
        var own = StateDict().ToDictionary(e => e.Name, e => e.Tensor);
        var unknown = state.Keys.Where(k => !own.ContainsKey(k)).ToList();
        if (unknown.Count > 0) throw new ArgumentException($"state has entries this model lacks: {string.Join(", ", unknown.Take(5))}");
        if (strict)
        {
            var missing = own.Keys.Where(k => !state.ContainsKey(k)).ToList();
            if (missing.Count > 0) throw new ArgumentException($"state lacks entries this model needs: {string.Join(", ", missing.Take(5))}");
        }
        foreach (var (name, source) in state)
        {
            var target = own[name];
            if (!source.Shape.SequenceEqual(target.Shape))
                throw new ArgumentException($"'{name}' has shape {Tensor.FormatShape(source.Shape)} in the state but {Tensor.FormatShape(target.Shape)} in the model");
        }
        using var _ = Torch.NoGrad();
        foreach (var (name, source) in state) own[name].CopyFrom(source);
    }

    /// <summary>Sets training mode here and in every submodule.</summary>
    public void Train(bool training = true)
    {
        Training = training;
        foreach (var (_, child) in _modules) child.Train(training);
    }

    public void Eval() => Train(false);

    /// <summary>Clears every parameter's gradient (set to none, as PyTorch's default).</summary>
    public void ZeroGrad()
    {
        foreach (var p in Parameters()) p.Grad = null;
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var (_, t) in _parameters) t.Dispose();
        foreach (var (_, t) in _buffers) t.Dispose();
        foreach (var (_, m) in _modules) m.Dispose();
        DisposeOwned();
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases what a module owns besides its tensors and submodules (e.g. a generator).</summary>
    protected virtual void DisposeOwned() { }

    private IEnumerable<(string Name, Tensor Tensor)> Walk(Func<Module, List<(string, Tensor)>> select, string prefix = "")
    {
        foreach (var (name, t) in select(this)) yield return (prefix + name, t);
        foreach (var (name, child) in _modules)
            foreach (var entry in child.Walk(select, prefix + name + "."))
                yield return entry;
    }

    private void CheckName(string name)
    {
        if (string.IsNullOrEmpty(name) || name.Contains('.'))
            throw new ArgumentException($"'{name}' is not a valid member name (non-empty, no dots)", nameof(name));
        if (_parameters.Any(p => p.Name == name) || _buffers.Any(b => b.Name == name) || _modules.Any(m => m.Name == name))
            throw new ArgumentException($"'{name}' is already registered in {GetType().Name}", nameof(name));
    }
}
