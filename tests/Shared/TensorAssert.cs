using CommerceMM.Tensors;
using TorchSharp;
using static TorchSharp.torch;

namespace CommerceMM.Tests.Shared;

/// <summary>Tensor comparisons for the test projects that link this file.</summary>
internal static class TensorAssert
{
    /// <summary>|actual - expected| ≤ atol + rtol·|expected| element-wise (numpy.allclose), with the worst element in the message.</summary>
    public static void Close(Tensor expected, Tensor actual, double rtol, double atol, string what = "tensor")
    {
        Assert.True(expected.shape.SequenceEqual(actual.shape), $"{what}: shape {TensorMemory.FormatShape(actual.shape)} != expected {TensorMemory.FormatShape(expected.shape)}");
        Close(Doubles(expected), Doubles(actual), rtol, atol, what);
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

    public static float[] Floats(Tensor t) => t.detach().cpu().to(ScalarType.Float32).contiguous().data<float>().ToArray();
    public static double[] Doubles(Tensor t) => t.numel() == 0 ? [] : t.detach().cpu().to(ScalarType.Float64).contiguous().data<double>().ToArray();
    public static long[] Longs(Tensor t) => t.detach().cpu().to(ScalarType.Int64).contiguous().data<long>().ToArray();
}
