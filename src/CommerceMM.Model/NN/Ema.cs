using CommerceMM.Tensors;
using TorchSharp;
using static TorchSharp.torch;

namespace CommerceMM.Model.NN;

/// <summary>Exponential moving averages of tensors (the MIM teacher, the mim_kl centre).</summary>
public static class Ema
{
    /// <summary>target ← target + weight·(source − target), in place, without recording gradients.</summary>
    public static void LerpInPlace(Tensor target, Tensor source, double weight)
    {
        using var noGrad = torch.no_grad();
        using var w = Weight(weight, target);
        target.lerp_(source, w);
    }

    /// <summary>TorchSharp's lerp_ takes only a tensor weight: a 0-d one on like's device and dtype.</summary>
    public static Tensor Weight(double weight, Tensor like) => HeldScalars.Full([], weight, like.dtype, like.device);
}
