using CommerceMM.Torch.Distributed;

namespace CommerceMM.Torch.Tests.Tensors;

/// <summary>Bad input from C# becomes a clear managed exception; nothing crashes or hangs.</summary>
public class ErrorTests
{
    [Fact]
    public void Add_IncompatibleShapes_NamesBothSizes()
    {
        using var a = Torch.Zeros([2, 3]);
        using var b = Torch.Zeros([4]);
        var error = Assert.Throws<TorchException>(() => a + b);
        Assert.Contains("(3)", error.Message);
        Assert.Contains("(4)", error.Message);
    }

    [Fact]
    public void CrossEntropy_FloatTargets_ThrowsDTypeError()
    {
        using var logits = Torch.Zeros([2, 3]);
        using var target = Torch.Zeros([2, 3, 4]);
        Assert.Throws<TorchException>(() => Losses.CrossEntropy(logits, target));
    }

    [Fact]
    public void ToArray_WrongElementType_ExplainsConversion()
    {
        using var t = Torch.Zeros([2]);
        var error = Assert.Throws<InvalidOperationException>(() => t.ToArray<long>());
        Assert.Contains("To(Int64)", error.Message);
    }

    [Fact]
    public void FromArray_ShapeDisagreesWithData_Throws()
    {
        var error = Assert.Throws<ArgumentException>(() => Torch.FromArray(new float[5], 2, 3));
        Assert.Contains("needs 6 elements but 5", error.Message);
    }

    [Fact]
    public void IndexSelect_OutOfRange_Throws()
    {
        using var t = Torch.Zeros([3, 2]);
        using var index = Torch.FromArray(new long[] { 7 });
        Assert.Throws<TorchException>(() => t.IndexSelect(0, index));
    }

    [Fact]
    public void Item_ManyElements_Throws()
    {
        using var t = Torch.Zeros([3]);
        var error = Assert.Throws<TorchException>(() => t.Item());
        Assert.Contains("[3]", error.Message);
    }

    [Fact]
    public void Backward_NoGraph_ThrowsInsteadOfCrashing()
    {
        using var t = Torch.Ones([1]);
        Assert.Throws<TorchException>(() => t.Backward());
    }

    [Fact]
    public void Backward_Twice_WithoutRetainGraph_Throws()
    {
        using var x = Torch.Ones([2], requiresGrad: true);
        using var y = (x * x).Sum();
        y.Backward();
        Assert.Throws<TorchException>(() => y.Backward());
    }

    [Fact]
    public void DisposedTensor_InCat_ThrowsObjectDisposed()
    {
        using var a = Torch.Ones([1]);
        var b = Torch.Ones([1]);
        b.Dispose();
        Assert.Throws<ObjectDisposedException>(() => Torch.Cat([a, b]));
    }

    [Fact]
    public void NumThreads_Zero_Throws()
    {
        var error = Assert.Throws<TorchException>(() => Torch.NumThreads = 0);
        Assert.Contains("got 0", error.Message);
    }

    [Fact]
    public void OpenMpThreads_ArePerOsThread_UseConfiguredThreadsAppliesTheLastSetting()
    {
        static int OnNewThread(Func<int> read)
        {
            int value = 0;
            var thread = new Thread(() => value = read());
            thread.Start();
            thread.Join();
            return value;
        }
        int before = Torch.NumThreads, fresh = OnNewThread(() => Torch.OpenMpThreadsOnThisThread);
        int wanted = fresh == 1 ? 2 : 1;
        try
        {
            Torch.NumThreads = wanted;
            Assert.Equal(wanted, Torch.OpenMpThreadsOnThisThread);
            Assert.Equal(fresh, OnNewThread(() => Torch.OpenMpThreadsOnThisThread));   // the setting did not reach other threads
            Assert.Equal(wanted, OnNewThread(() => { Torch.UseConfiguredThreads(); return Torch.OpenMpThreadsOnThisThread; }));
        }
        finally
        {
            Torch.NumThreads = before;
        }
    }

    [Fact]
    public void Generator_SetStateWrongDType_Throws()
    {
        using var g = new Generator(1);
        using var bad = Torch.Zeros([10]);
        Assert.Throws<TorchException>(() => g.SetState(bad));
    }

    [Fact]
    public void TcpStore_Unreachable_ThrowsNamingAddressWithinTimeout()
    {
        var error = Assert.Throws<TorchException>(() => TcpStore.Connect("127.0.0.1", 1, TimeSpan.FromSeconds(1)));
        Assert.Contains("127.0.0.1:1", error.Message);
    }

    [Fact]
    public void ProcessGroup_InvalidRank_Throws()
    {
        using var store = TcpStore.StartServer("127.0.0.1", 0, TimeSpan.FromSeconds(5));
        var error = Assert.Throws<TorchException>(() => ProcessGroup.CreateGloo(store, rank: 3, size: 2, TimeSpan.FromSeconds(1)));
        Assert.Contains("invalid rank 3", error.Message);
    }

    [Fact]
    public void ProcessGroup_PeersNeverJoin_TimesOut()
    {
        using var store = TcpStore.StartServer("127.0.0.1", 0, TimeSpan.FromSeconds(2));
        Assert.Throws<TorchException>(() => ProcessGroup.CreateGloo(store, rank: 0, size: 2, TimeSpan.FromSeconds(2)));
    }

    [Fact]
    public void SingleRankGroup_Collectives_AreIdentity()
    {
        using var store = TcpStore.StartServer("127.0.0.1", 0, TimeSpan.FromSeconds(5));
        using var group = ProcessGroup.CreateGloo(store, 0, 1, TimeSpan.FromSeconds(5));
        using var t = Torch.FromArray(new float[] { 1, 2 });
        group.AllReduce(t, ReduceOp.Average);
        Assert.Equal(new float[] { 1, 2 }, t.ToArray<float>());
        using var gathered = group.AllGather(t);
        Assert.Equal(new float[] { 1, 2 }, gathered.ToArray<float>());
    }
}
