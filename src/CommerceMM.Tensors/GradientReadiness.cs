using TorchSharp;
using static TorchSharp.torch;

namespace CommerceMM.Tensors;

/// <summary>
/// Tells, during a backward pass, when a unit's parameter gradients are final, so their all-reduce can
/// start while backward goes on. TorchSharp has no gradient hooks; a unit (an encoder layer) instead
/// passes its input through <see cref="Mark"/>, an identity whose backward runs once the unit's whole
/// backward has: libtorch's engine runs every ready AccumulateGrad first (its sequence number is the
/// highest), so by then each parameter of the unit has its gradient. A unit called k times in the
/// forward pass is ready after the k-th of those backwards.
/// </summary>
/// <remarks>
/// Only a forward pass after <see cref="Arm"/> is counted (the step's last one: gradients of an earlier
/// pass are not final when its backward ends). A unit whose marked output never reaches the loss is
/// never reported: the caller treats whatever was not reported as ready once backward returns, so a
/// unit is never reported early, at worst late.
/// </remarks>
public sealed class GradientReadiness
{
    private readonly int[] _pending;
    private bool _armed;

    public GradientReadiness(int units)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(units);
        _pending = new int[units];
    }

    public int Units => _pending.Length;

    /// <summary>
    /// Called with a unit's index when its gradients are final, on the thread running backward (the
    /// caller's on the CPU, the device's autograd thread on CUDA), one call at a time. It must not throw: an exception
    /// cannot cross libtorch's engine.
    /// </summary>
    public Action<int>? UnitReady { get; set; }

    /// <summary>The next forward pass is the step's last: count its units' calls.</summary>
    public void Arm()
    {
        Array.Clear(_pending);
        _armed = true;
    }

    /// <summary>Stops counting (after the last backward, or when a step is abandoned).</summary>
    public void Disarm() => _armed = false;

    /// <summary>Units called in the armed pass whose backward has not yet come back.</summary>
    public bool IsPending(int unit) => _pending[unit] > 0;

    /// <summary>The unit's input, unchanged; when armed and recording gradients, its backward reports the unit.</summary>
    public Tensor Mark(Tensor input, int unit)
    {
        if (!_armed || !input.requires_grad || !torch.is_grad_enabled()) return input;
        _pending[unit]++;
        return ReadinessMarker.apply(input, this, unit);
    }

    internal void BackwardReached(int unit)
    {
        // Two encoders' backwards may run at once (the model's ConcurrentBranches): one unit at a time, so that whatever
        // UnitReady reads of the other units is what their threads have finished.
        lock (_pending)
        {
            if (--_pending[unit] == 0) UnitReady?.Invoke(unit);
        }
    }
}

/// <summary>The identity whose backward tells <see cref="GradientReadiness"/> that a unit's backward is done.</summary>
internal sealed class ReadinessMarker : autograd.SingleTensorFunction<ReadinessMarker>
{
    public override string Name => "CommerceMM.ReadinessMarker";

    /// <param name="vars">the input, the <see cref="GradientReadiness"/>, the unit index</param>
    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        ctx.save_data("readiness", vars[1]);
        ctx.save_data("unit", vars[2]);
        return ((Tensor)vars[0]).alias(); // not a copy: a layer never writes into its input in place
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor gradOutput)
    {
        ((GradientReadiness)ctx.get_data("readiness")).BackwardReached((int)ctx.get_data("unit"));
        return [gradOutput.alias(), null!, null!];
    }
}

/// <summary>One unit's handle on a <see cref="GradientReadiness"/>: what a layer passes its input through.</summary>
public sealed record ReadinessProbe(GradientReadiness Readiness, int Unit)
{
    public Tensor Mark(Tensor input) => Readiness.Mark(input, Unit);
}
