using TorchSharp;
using static TorchSharp.torch;

namespace CommerceMM.Tensors.Tests;

/// <summary>HeldScalars' sums compute what TorchSharp's <c>+</c> does, dtype included.</summary>
public class HeldScalarsTests
{
    [Fact]
    public void AddTensor_EqualsThePlusOperator_WithBroadcasting()
    {
        using var scope = torch.NewDisposeScope();
        var x = torch.tensor(new float[] { 1, 2, 3, 4, 5, 6 }, [2, 3]);
        var row = torch.tensor(new float[] { 10, 20, 30 }, [3]);
        var sum = x.Add(row);
        Assert.Equal(new long[] { 2, 3 }, sum.shape);
        Assert.Equal(new float[] { 11, 22, 33, 14, 25, 36 }, sum.data<float>().ToArray());
    }

    [Fact]
    public void AddTensorOrScalar_KeepsIntegerTensorsInteger()
    {
        using var scope = torch.NewDisposeScope();
        var x = torch.tensor(new long[] { 1, 2, 3 });
        using var two = 2L.ToScalar();
        var sum = x.Add(x).Add(two);
        Assert.Equal(ScalarType.Int64, sum.dtype);
        Assert.Equal(new long[] { 4, 6, 8 }, sum.data<long>().ToArray());
    }
}
