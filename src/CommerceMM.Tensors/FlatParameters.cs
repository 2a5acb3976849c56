using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CommerceMM.Tensors;

/// <summary>
/// Float32 parameters moved into one flat buffer, each parameter a view of its segment, with a twin flat buffer
/// for their gradients. An optimizer, the gradient norm and the all-reduce then run as a handful of large ops
/// over whole buffers instead of a few ops per parameter (hundreds of small kernels on a GPU), and gradient
/// buckets are views of the flat gradients, so the all-reduce needs no copies.
/// </summary>
/// <remarks>
/// <para>Modules keep their own <see cref="Parameter"/> objects: each is re-pointed (set_) at its segment, so
/// forward passes, state dicts and in-place loads see the flat storage without knowing it.</para>
/// <para>A parameter without a gradient stays without one: backward writes fresh gradients (autograd's own
/// buffers), and <see cref="GatherGradients"/> copies each into its segment and makes the segment the parameter's
/// gradient. "No gradient" keeps its meaning (the optimizer leaves such a parameter alone), which gradients that
/// always live in the flat buffer could not tell from a zero gradient.</para>
/// </remarks>
public sealed class FlatParameters : IDisposable
{
    private readonly Parameter[] _parameters;
    private readonly Tensor[] _gradientViews;
    private readonly IntPtr[] _gradientAddresses;

    /// <param name="parameters">float32 parameters on one device; the flat order is this order</param>
    public FlatParameters(IReadOnlyList<(string Name, Tensor Param)> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (parameters.Count == 0) throw new ArgumentException("no parameters to flatten", nameof(parameters));
        Names = parameters.Select(p => p.Name).ToArray();
        _parameters = parameters.Select(p => p.Param as Parameter ?? throw new ArgumentException($"'{p.Name}' is not a Parameter (wrap it: new Parameter(tensor))", nameof(parameters))).ToArray();
        var device = _parameters[0].device;
        for (int i = 0; i < _parameters.Length; i++)
        {
            var p = _parameters[i];
            if (p.dtype != ScalarType.Float32) throw new ArgumentException($"'{Names[i]}' is {p.dtype}; flat buffers hold float32 (master) weights", nameof(parameters));
            if (p.device_type != device.type || p.device_index != device.index) throw new ArgumentException($"'{Names[i]}' is on {p.device} but '{Names[0]}' on {device}; move the model to one device first", nameof(parameters));
        }

        var offsets = new long[_parameters.Length];
        long total = 0;
        for (int i = 0; i < _parameters.Length; i++)
        {
            offsets[i] = total;
            total += _parameters[i].numel();
        }
        Offsets = offsets;
        Length = total;
        Values = torch.empty(total, ScalarType.Float32, device: device).DetachFromDisposeScope();
        Gradients = torch.zeros(total, ScalarType.Float32, device: device).DetachFromDisposeScope();
        _gradientViews = new Tensor[_parameters.Length];
        _gradientAddresses = new IntPtr[_parameters.Length];
        using var noGrad = torch.no_grad();
        for (int i = 0; i < _parameters.Length; i++)
        {
            var p = _parameters[i];
            using var values = Segment(Values, i).view(p.shape);
            values.copy_(p);
            p.set_(values);
            _gradientViews[i] = Segment(Gradients, i).view(p.shape).DetachFromDisposeScope();
            _gradientAddresses[i] = TensorMemory.DataPointer(_gradientViews[i]);
        }
    }

    /// <summary>Every parameter's values, back to back (the parameters are views of it).</summary>
    public Tensor Values { get; }

    /// <summary>Every parameter's gradient, back to back, once gathered (zeros for a parameter without one).</summary>
    public Tensor Gradients { get; }

    public IReadOnlyList<string> Names { get; }

    public IReadOnlyList<Parameter> Parameters => _parameters;

    /// <summary>Where each parameter's segment starts in the flat buffers.</summary>
    public IReadOnlyList<long> Offsets { get; }

    /// <summary>Elements in each flat buffer.</summary>
    public long Length { get; }

    public int Count => _parameters.Length;

    /// <summary>Parameter <paramref name="index"/>'s segment of a flat buffer (of <see cref="Length"/> elements), as a 1-D view.</summary>
    public Tensor Segment(Tensor flat, int index) => flat.narrow(0, Offsets[index], _parameters[index].numel());

    /// <summary>
    /// Moves every gradient into <see cref="Gradients"/> (<see cref="GatherGradient"/> for each parameter).
    /// </summary>
    /// <returns>Which parameters have a gradient.</returns>
    public bool[] GatherGradients()
    {
        var has = new bool[_parameters.Length];
        for (int i = 0; i < _parameters.Length; i++) has[i] = GatherGradient(i);
        return has;
    }

    /// <summary>
    /// Moves parameter <paramref name="index"/>'s gradient into its segment of <see cref="Gradients"/>: the gradient
    /// becomes the segment (a copy of what backward wrote); without one, it keeps none and the segment holds zeros.
    /// Idempotent: a gradient that already is its segment (gathered before, then accumulated into in place) is left as it is.
    /// </summary>
    /// <returns>Whether the parameter has a gradient.</returns>
    public bool GatherGradient(int index)
    {
        // Called per parameter, every step, also inside backward: no scope or grad-mode objects, one handle disposed at once.
        using var grad = _parameters[index].grad;
        if (grad is null)
        {
            _gradientViews[index].zero_();
            return false;
        }
        if (grad.is_contiguous() && TensorMemory.DataPointer(grad) == _gradientAddresses[index]) return true;
        _gradientViews[index].copy_(grad);
        _parameters[index].grad = _gradientViews[index];
        return true;
    }

    /// <summary>Gives parameter <paramref name="index"/> its segment of <see cref="Gradients"/> as its gradient (one that got a gradient on another rank).</summary>
    public void AdoptGradient(int index) => _parameters[index].grad = _gradientViews[index];

    /// <summary>Clears every gradient (set to none, as zero_grad(set_to_none=True)): the next backward starts afresh.</summary>
    public void ClearGradients()
    {
        foreach (var p in _parameters) p.grad = null;
    }

    public void Dispose()
    {
        foreach (var view in _gradientViews) view.Dispose();
        Values.Dispose();
        Gradients.Dispose();
    }
}
