using CommerceMM.Tensors;
using TorchSharp;
using static TorchSharp.torch;

namespace CommerceMM.Model.Training;

public static class GradientClipping
{
    /// <summary>
    /// The global L2 norm over every parameter's gradient (torch.nn.utils.clip_grad_norm_'s), one op over the flat
    /// gradient buffer once the gradients are gathered into it. Clipping itself is <see cref="Coefficient"/>, applied
    /// by AdamW as it reads each gradient rather than by a pass of its own.
    /// </summary>
    public static double GlobalNorm(FlatParameters parameters)
    {
        parameters.GatherGradients();
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        return NN.Scalars.ToDouble(parameters.Gradients.norm());
    }

    /// <summary>
    /// What clip_grad_norm_ scales the gradients by: min(1, maxNorm / (‖g‖ + 1e-6)); 1 for a non-finite norm (the caller
    /// skips such a step).
    /// </summary>
    public static double Coefficient(double norm, double maxNorm)
    {
        if (!(maxNorm > 0)) throw new ArgumentOutOfRangeException(nameof(maxNorm), maxNorm, "must be > 0");
        double coefficient = maxNorm / (norm + 1e-6);
        return double.IsFinite(norm) && coefficient < 1 ? coefficient : 1;
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
