using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CommerceMM.Model.NN;

/// <summary>
/// Linear and LayerNorm are TorchSharp's own (PyTorch's parameter names), the embedding table ours
/// (<see cref="EmbeddingTable"/>); weights are initialised by <see cref="Init"/> from an explicit
/// generator instead of TorchSharp's global one.
/// </summary>
public static class Layers
{
    /// <summary>nn.Linear(in, out): weight (out, in) then bias (out), both U(±1/√in), drawn in that order.</summary>
    public static Linear Linear(long inFeatures, long outFeatures, Generator? generator, bool bias = true)
    {
        var weight = new Parameter(Init.LinearUniform([outFeatures, inFeatures], inFeatures, generator));
        var b = bias ? new Parameter(Init.LinearUniform([outFeatures], inFeatures, generator)) : null;
        return torch.nn.Linear(weight, b);
    }

    /// <summary>nn.Embedding(count, dim) with weights N(0, std²).</summary>
    public static EmbeddingTable Embedding(long count, long dim, double std, Generator? generator) =>
        new(Init.Normal([count, dim], std, generator));

    /// <summary>nn.LayerNorm(dim): weight ones, bias zeros.</summary>
    public static LayerNorm LayerNorm(long dim, double eps = 1e-5) => torch.nn.LayerNorm(dim, eps);
}
