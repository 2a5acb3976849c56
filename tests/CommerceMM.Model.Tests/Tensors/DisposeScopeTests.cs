using TorchSharp;
using static TorchSharp.torch;

namespace CommerceMM.Model.Tests.Tensors;

/// <summary>The dispose-scope behaviour every forward pass and step relies on (TorchSharp's scopes).</summary>
[Collection(LiveTensorCountCollection.Name)]
public class DisposeScopeTests
{
    private static long LiveCount => DisposeScopeManager.Statistics.ThreadTotalLiveCount;

    [Fact]
    public void Scope_DisposesTemporaries_KeepsMovedAndDetached()
    {
        Tensor kept, detached, temporary;
        using (var outer = torch.NewDisposeScope())
        {
            using (var inner = torch.NewDisposeScope())
            {
                temporary = torch.ones(2) * 3.0;
                kept = (temporary + 1.0).MoveToOuterDisposeScope();
                detached = torch.zeros(1).DetachFromDisposeScope();
                Assert.Equal(2, inner.DisposablesCount); // ones and ones*3: the moved and the detached tensors left
            }
            Assert.True(temporary.IsInvalid);
            Assert.False(kept.IsInvalid);
            Assert.Equal(1, outer.DisposablesCount);
        }
        Assert.True(kept.IsInvalid);
        Assert.False(detached.IsInvalid);
        detached.Dispose();
    }

    [Fact]
    public void Scope_ThousandsOfTemporaries_LeaveNoLiveTensors()
    {
        using var x = torch.ones(4, 4);
        long before = LiveCount;
        using (torch.NewDisposeScope())
            for (int i = 0; i < 2000; i++) _ = (x * 2.0).exp().sum();
        Assert.Equal(before, LiveCount);
    }
}
