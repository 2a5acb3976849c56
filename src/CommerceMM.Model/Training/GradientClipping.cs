using CommerceMM.Tensors;
using TorchSharp;
using static TorchSharp.torch;

namespace CommerceMM.Model.Training;

public static class GradientClipping
{
    /// <summary>
    /// Scales all gradients by min(1, maxNorm / (‖g‖ + 1e-6)) where ‖g‖ is the global L2 norm over every
    /// parameter's gradient (torch.nn.utils.clip_grad_norm_), as two ops over the flat gradient buffer.
    /// Returns the norm before clipping (non-finite gradients are left as they are: the caller skips the step).
    /// </summary>
    public static double ClipGlobalNorm(FlatParameters parameters, double maxNorm)
    {
        if (!(maxNorm > 0)) throw new ArgumentOutOfRangeException(nameof(maxNorm), maxNorm, "must be > 0");
        parameters.GatherGradients();
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        double norm = NN.Scalars.ToDouble(parameters.Gradients.norm());
        double coefficient = maxNorm / (norm + 1e-6);
        if (!double.IsFinite(norm) || coefficient >= 1) return norm;
        using var scale = coefficient.ToScalar(); // held (CMM0001)
        parameters.Gradients.mul_(scale);
        return norm;
    }

    /// <summary>The global L2 norm of all gradients (0 when none has one), without changing them.</summary>
    public static double GlobalNorm(IReadOnlyList<Tensor> parameters)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var norms = new List<Tensor>();
        foreach (var p in parameters)
            if (p.grad is { } g) norms.Add(g.norm());
        if (norms.Count == 0) return 0;
        // As clip_grad_norm_: the norm of the per-tensor norms, on the gradients' device.
        return NN.Scalars.ToDouble(torch.stack(norms).norm());
    }
}
