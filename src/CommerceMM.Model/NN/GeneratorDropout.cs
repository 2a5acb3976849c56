using CommerceMM.Tensors;
using TorchSharp;
using static TorchSharp.torch;

namespace CommerceMM.Model.NN;

/// <summary>
/// Inverted dropout whose masks come from an explicit generator (TorchSharp's dropout takes none), so
/// masks are reproducible and resumable. Masks are drawn on the CPU, then moved: CPU and CUDA runs draw
/// identical masks, and a checkpointed generator state is device-independent.
/// </summary>
public static class GeneratorDropout
{
    /// <returns>a new tensor (an alias of x when nothing is dropped)</returns>
    public static Tensor Apply(Tensor x, double p, bool training, Generator? generator)
    {
        if (p is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(p), p, "dropout probability must be in [0, 1]");
        if (!training || p == 0) return x.alias();
        if (p == 1) return x.Mul(0.0);
        using var scope = torch.NewDisposeScope();
        using var drop = p.ToScalar();
        using var kept = (1 - p).ToScalar();
        var keep = torch.rand(x.shape, ScalarType.Float32, torch.CPU, generator: generator).ge_(drop);
        var scale = keep.to(x.dtype, x.device).div_(kept);
        return (x * scale).MoveToOuterDisposeScope();
    }
}
