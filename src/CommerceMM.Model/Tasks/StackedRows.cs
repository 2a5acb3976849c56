using TorchSharp;
using static TorchSharp.torch;

namespace CommerceMM.Model.Tasks;

/// <summary>
/// One encoder call over two inputs' rows stacked. A layer's GEMMs over 2B rows cost less than two calls over B (on the
/// CPU, bf16's weight-gradient GEMMs especially), and every op's fixed cost is paid once (CONTRIBUTING, "One encoder call
/// per input kind").
/// </summary>
internal static class StackedRows
{
    /// <param name="a">the encoder's batch-major arguments for the first rows; null when not needed</param>
    /// <param name="b">the same for the second rows; inputs whose shapes differ beyond the batch run separately</param>
    /// <returns>the encoder's output for a's rows and for b's rows (null where the input was)</returns>
    public static (Tensor? A, Tensor? B) Encode(Tensor[]? a, Tensor[]? b, Func<Tensor[], Tensor> encode) => Split(a, b, Outputs(a, b, encode));

    /// <summary>The encoder's outputs: one over both inputs' rows stacked where they stack, else one per input given (<see cref="Split"/> takes them apart).</summary>
    public static Tensor?[] Outputs(Tensor[]? a, Tensor[]? b, Func<Tensor[], Tensor> encode) =>
        Stacks(a, b) ? [encode(a!.Zip(b!, (x, y) => torch.cat([x, y])).ToArray())] : [a is null ? null : encode(a), b is null ? null : encode(b)];

    /// <summary>a's rows and b's rows of what <see cref="Outputs"/> gave for the same inputs.</summary>
    public static (Tensor? A, Tensor? B) Split(Tensor[]? a, Tensor[]? b, Tensor?[] outputs)
    {
        if (!Stacks(a, b)) return (outputs[0], outputs[1]);
        long rows = a![0].size(0);
        return (outputs[0]!.narrow(0, 0, rows), outputs[0]!.narrow(0, rows, b![0].size(0)));
    }

    private static bool Stacks(Tensor[]? a, Tensor[]? b) =>
        a is not null && b is not null && a.Zip(b).All(p => p.First.shape.Skip(1).SequenceEqual(p.Second.shape.Skip(1)));
}
