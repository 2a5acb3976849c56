using CommerceMM.Torch;

namespace CommerceMM.Worker.Models;

internal static class Tokens
{
    /// <summary>Real (non-padding) tokens under a padding mask (true at padding).</summary>
    public static long Real(Tensor padding)
    {
        using var real = padding.LogicalNot();
        using var sum = real.Sum();
        return sum.ItemLong();
    }
}
