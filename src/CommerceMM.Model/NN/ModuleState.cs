using CommerceMM.Tensors;
using TorchSharp;
using static TorchSharp.torch;

namespace CommerceMM.Model.NN;

/// <summary>
/// State dicts in PyTorch's order, and loading with today's strict checks and messages.
/// </summary>
/// <remarks>
/// TorchSharp's state_dict lists every parameter of the tree before any buffer; PyTorch (and our
/// checkpoints) list each module's parameters, then its buffers, then its children's. Its
/// load_state_dict reports only "not identical" and checks no shapes before copying.
/// </remarks>
public static class ModuleState
{
    /// <summary>Parameters then buffers of every module, depth first, in registration order (PyTorch's state_dict order).</summary>
    public static IReadOnlyList<(string Name, Tensor Tensor)> StateDict(this nn.Module module)
    {
        var result = new List<(string, Tensor)>();
        Collect(module, "", result);
        return result;

        static void Collect(nn.Module m, string prefix, List<(string, Tensor)> into)
        {
            foreach (var (name, p) in m.named_parameters(recurse: false)) into.Add((prefix + name, p));
            foreach (var (name, b) in m.named_buffers(recurse: false, include_nonpersistent: false)) into.Add((prefix + name, b));
            foreach (var (name, child) in m.named_children()) Collect(child, prefix + name + ".", into);
        }
    }

    /// <summary>
    /// Copies tensors into this module's parameters and buffers by name (converting dtype and device).
    /// Every entry must exist with the same shape; with strict, every parameter and buffer must be
    /// given. Nothing is changed unless all checks pass.
    /// </summary>
    public static void LoadStateDict(this nn.Module module, IReadOnlyDictionary<string, Tensor> state, bool strict = true)
    {
        var own = module.StateDict().ToDictionary(e => e.Name, e => e.Tensor);
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
            if (!source.shape.SequenceEqual(target.shape))
                throw new ArgumentException($"'{name}' has shape {TensorMemory.FormatShape(source.shape)} in the state but {TensorMemory.FormatShape(target.shape)} in the model");
        }
        using var _ = torch.no_grad();
        foreach (var (name, source) in state) own[name].copy_(source);
    }

    /// <summary>(name, parameter) of every parameter, depth first, as tuples the optimizer and bucketer take.</summary>
    public static IReadOnlyList<(string Name, Tensor Tensor)> NamedParameters(this nn.Module module) =>
        module.named_parameters().Select(p => (p.name, (Tensor)p.parameter)).ToList();
}
