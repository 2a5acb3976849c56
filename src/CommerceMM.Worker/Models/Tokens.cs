using static TorchSharp.torch;

namespace CommerceMM.Worker.Models;

internal static class Tokens
{
    /// <summary>Real (non-padding) tokens under a padding mask (true at padding), on any device.</summary>
    public static long Real(Tensor padding)
    {
        using var real = padding.logical_not();
        using var sum = real.sum();
        return sum.item<long>();
    }
}
