using CommerceMM.Model.NN;
using CommerceMM.Model.Tasks;
using TorchSharp;
using static TorchSharp.torch;

namespace CommerceMM.Model.Tests.Tasks;

public class StackedRowsTests
{
    [Fact]
    public void SameShapes_OneCallOverBothInputsRows_EachGetsItsOwnRowsBack()
    {
        using var scope = torch.NewDisposeScope();
        var (a, aBias) = (torch.arange(6f).reshape(2, 3), torch.ones(2, 3));
        var (b, bBias) = (torch.arange(9f).reshape(3, 3).add(10), torch.zeros(3, 3));
        var calls = new List<long>();
        Tensor Encode(Tensor[] x) { calls.Add(x[0].size(0)); return x[0].mul(2).add(x[1]); }

        var (first, second) = StackedRows.Encode([a, aBias], [b, bBias], Encode);

        Assert.Equal([5L], calls);
        Assert.Equal(Scalars.ToArray<float>(a.mul(2).add(aBias)), Scalars.ToArray<float>(first!));
        Assert.Equal(Scalars.ToArray<float>(b.mul(2)), Scalars.ToArray<float>(second!));
    }

    [Fact]
    public void ShapesBeyondTheBatchDiffer_EachInputRunsOnItsOwn()
    {
        using var scope = torch.NewDisposeScope();
        var calls = new List<long[]>();
        Tensor Encode(Tensor[] x) { calls.Add(x[0].shape); return x[0].sum(1); }

        var (first, second) = StackedRows.Encode([torch.ones(2, 4)], [torch.ones(3, 5)], Encode);

        Assert.Equal([[2L, 4L], [3L, 5L]], calls);
        Assert.Equal(Scalars.ToArray<float>(torch.ones(2).mul(4)), Scalars.ToArray<float>(first!));
        Assert.Equal(Scalars.ToArray<float>(torch.ones(3).mul(5)), Scalars.ToArray<float>(second!));
    }

    [Fact]
    public void AnInputNotNeeded_IsNotEncoded()
    {
        using var scope = torch.NewDisposeScope();
        var calls = 0;
        Tensor Encode(Tensor[] x) { calls++; return x[0].neg(); }

        var (first, second) = StackedRows.Encode(null, [torch.ones(2)], Encode);
        var (third, fourth) = StackedRows.Encode([torch.ones(2)], null, Encode);

        Assert.Equal(2, calls);
        Assert.Null(first);
        Assert.Equal(Scalars.ToArray<float>(torch.ones(2).neg()), Scalars.ToArray<float>(second!));
        Assert.Equal(Scalars.ToArray<float>(torch.ones(2).neg()), Scalars.ToArray<float>(third!));
        Assert.Null(fourth);
    }
}
