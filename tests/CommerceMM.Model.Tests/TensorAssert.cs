using CommerceMM.Model.NN;
using TorchSharp;
using static TorchSharp.torch;

namespace CommerceMM.Model.Tests;

internal static class TensorAssert
{
    /// <summary>|actual - expected| ≤ atol + rtol·|expected| element-wise (numpy.allclose), with the worst element in the message.</summary>
    public static void Close(Tensor expected, Tensor actual, double rtol, double atol, string what = "tensor")
    {
        Assert.True(expected.shape.SequenceEqual(actual.shape), $"{what}: shape {ModuleState.FormatShape(actual.shape)} != expected {ModuleState.FormatShape(expected.shape)}");
        using var e64 = expected.to(ScalarType.Float64);
        using var a64 = actual.detach().to(ScalarType.Float64);
        Close(Scalars.ToArray<double>(e64), Scalars.ToArray<double>(a64), rtol, atol, what);
    }

    public static void Close(double[] expected, double[] actual, double rtol, double atol, string what = "values")
    {
        Assert.Equal(expected.Length, actual.Length);
        int worst = -1;
        double worstExcess = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double excess = Math.Abs(actual[i] - expected[i]) - (atol + rtol * Math.Abs(expected[i]));
            if (excess > worstExcess || double.IsNaN(actual[i]) != double.IsNaN(expected[i])) { worst = i; worstExcess = excess; }
        }
        Assert.True(worst < 0, worst < 0 ? "" : $"{what}: element {worst} is {actual[worst]:R}, expected {expected[worst]:R} (rtol {rtol}, atol {atol})");
    }
}
