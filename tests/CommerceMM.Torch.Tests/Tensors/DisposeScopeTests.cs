namespace CommerceMM.Torch.Tests.Tensors;

[Collection(LiveTensorCountCollection.Name)]
public class DisposeScopeTests
{
    [Fact]
    public void Scope_DisposesTemporaries_KeepsMovedAndDetached()
    {
        Tensor kept, detached, temporary;
        using (var outer = DisposeScope.Open())
        {
            using (var inner = DisposeScope.Open())
            {
                temporary = Torch.Ones([2]) * 3.0;
                kept = inner.MoveToOuter(temporary + 1.0);
                detached = DisposeScope.Detach(Torch.Zeros([1]));
                Assert.Equal(2, inner.Count); // ones and ones*3: the moved and the detached tensors left
            }
            Assert.True(temporary.IsDisposed);
            Assert.False(kept.IsDisposed);
            Assert.Equal(1, outer.Count);
        }
        Assert.True(kept.IsDisposed);
        Assert.False(detached.IsDisposed);
        detached.Dispose();
    }

    [Fact]
    public void Scope_ClosedOutOfOrder_Throws()
    {
        var outer = DisposeScope.Open();
        var inner = DisposeScope.Open();
        Assert.Throws<InvalidOperationException>(() => outer.Dispose());
        inner.Dispose();
        outer.Dispose();
    }

    [Fact]
    public void Scope_ThousandsOfTemporaries_LeaveNoLiveTensors()
    {
        using var x = Torch.Ones([4, 4]);
        long before = Tensor.LiveCount;
        using (DisposeScope.Open())
            for (int i = 0; i < 2000; i++) _ = (x * 2.0).Exp().Sum();
        Assert.Equal(before, Tensor.LiveCount);
    }
}
