namespace CommerceMM.Torch.Tests;

public class TensorBasicsTests
{
    [Fact]
    public void FromArray_RoundTrips_ValuesAndShape()
    {
        using var t = Torch.FromArray(new float[] { 1, 2, 3, 4, 5, 6 }, 2, 3);
        Assert.Equal(new long[] { 2, 3 }, t.Shape);
        Assert.Equal(DType.Float32, t.DType);
        Assert.Equal(new float[] { 1, 2, 3, 4, 5, 6 }, t.ToArray<float>());
    }

    [Fact]
    public void MatMul_ShapeMismatch_ThrowsWithBothShapes()
    {
        using var a = Torch.Zeros([2, 3]);
        using var b = Torch.Zeros([4, 5]);
        var error = Assert.Throws<TorchException>(() => a.MatMul(b));
        Assert.Contains("2x3", error.Message);
        Assert.Contains("4x5", error.Message);
    }

    [Fact]
    public void Dispose_ThenUse_ThrowsObjectDisposed()
    {
        var t = Torch.Ones([3]);
        t.Dispose();
        Assert.Throws<ObjectDisposedException>(() => t.Sum());
        Assert.Throws<ObjectDisposedException>(() => t.Shape);
    }
}
