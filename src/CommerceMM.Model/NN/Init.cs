using CommerceMM.Tensors;
using TorchSharp;
using static TorchSharp.torch;

namespace CommerceMM.Model.NN;

/// <summary>
/// Every initialisation rule in one place, each matching PyTorch's default for the same layer so
/// that models here and there start from the same distributions. Draws are made on the CPU from an
/// explicit generator (the default one when null), so a model starts identically on any device.
/// </summary>
public static class Init
{
    /// <summary>U(-1/√fanIn, 1/√fanIn): nn.Linear's default (kaiming_uniform with a=√5) for weight and bias.</summary>
    public static Tensor LinearUniform(long[] shape, long fanIn, Generator? generator)
    {
        double bound = fanIn > 0 ? 1.0 / Math.Sqrt(fanIn) : 0;
        return Uniform(shape, -bound, bound, generator);
    }

    /// <summary>Glorot/Xavier uniform, as nn.MultiheadAttention initialises its fused input projection.</summary>
    public static Tensor XavierUniform(long[] shape, Generator? generator)
    {
        long fanOut = shape[0], fanIn = shape[1];
        double bound = Math.Sqrt(6.0 / (fanIn + fanOut));
        return Uniform(shape, -bound, bound, generator);
    }

    /// <summary>N(0, std²): embeddings (nn.Embedding uses std 1; BERT-style models use 0.02).</summary>
    public static Tensor Normal(long[] shape, double std, Generator? generator)
    {
        using var z = torch.randn(shape, ScalarType.Float32, torch.CPU, generator: generator);
        return z.Mul(std);
    }

    public static Tensor Uniform(long[] shape, double low, double high, Generator? generator)
    {
        using var u = torch.rand(shape, ScalarType.Float32, torch.CPU, generator: generator);
        using var scaled = u.Mul(high - low);
        return scaled.Add(low);
    }
}
