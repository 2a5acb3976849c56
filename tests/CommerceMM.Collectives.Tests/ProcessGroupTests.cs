using System.Diagnostics;
using CommerceMM.Collectives.Peer;
using TorchSharp;
using static CommerceMM.Tests.Shared.TensorAssert;
using static TorchSharp.torch;

namespace CommerceMM.Collectives.Tests;

/// <summary>One process: creation errors, argument checks and the single-rank group.</summary>
public sealed class ProcessGroupTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("cmm-store-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private FileRendezvousStore Store() => new(_directory);

    private ProcessGroup SingleRank() => ProcessGroup.Create(Store(), 0, 1, torch.CPU, TimeSpan.FromSeconds(5));

    [Fact]
    public void ProcessGroup_InvalidRank_Throws()
    {
        var error = Assert.Throws<CollectiveException>(() => ProcessGroup.Create(Store(), rank: 3, size: 2, torch.CPU, TimeSpan.FromSeconds(1)));
        Assert.Contains("invalid rank 3", error.Message);
        Assert.Equal(CollectiveError.InvalidArgument, error.Error);
    }

    [Fact]
    public void ProcessGroup_PeersNeverJoin_TimesOut()
    {
        var watch = Stopwatch.StartNew();
        var error = Assert.Throws<CollectiveException>(() => ProcessGroup.Create(Store(), rank: 0, size: 2, torch.CPU, TimeSpan.FromSeconds(2)));
        Assert.Equal(CollectiveError.Timeout, error.Error);
        Assert.Contains("'cmm-collectives/gloo/0/1'", error.Message); // the key it waited for: rank 1's address, never written
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"took {watch.Elapsed}");
    }

    [Fact]
    public void ProcessGroup_StoreUnreachable_ThrowsNamingStoreWithinTimeout()
    {
        var gone = new FileRendezvousStore(Path.Combine(_directory, "no-such-store"));
        var watch = Stopwatch.StartNew();
        var error = Assert.Throws<CollectiveException>(() => ProcessGroup.Create(gone, 0, 2, torch.CPU, TimeSpan.FromSeconds(1)));
        Assert.Equal(CollectiveError.StoreFailure, error.Error);
        Assert.Contains("no-such-store", error.Message);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"took {watch.Elapsed}");
    }

    [Fact]
    public void ProcessGroup_InterfaceHostNotOfThisMachine_ThrowsNamingIt()
    {
        var error = Assert.Throws<CollectiveException>(() => ProcessGroup.Create(Store(), 0, 1, torch.CPU, TimeSpan.FromSeconds(1), interfaceHost: "203.0.113.7"));
        Assert.Contains("203.0.113.7", error.Message);
    }

    [Fact]
    public void SingleRankGroup_Collectives_AreIdentity()
    {
        using var group = SingleRank();
        var t = torch.tensor(new float[] { 1, 2 });
        group.AllReduce(t, ReduceOp.Average);
        Assert.Equal(new float[] { 1, 2 }, Floats(t));
        var gathered = group.AllGather(t);
        Assert.Equal(new float[] { 1, 2 }, Floats(gathered));
        group.Broadcast(t);
        group.Barrier();
        Assert.Equal(new float[] { 1, 2 }, Floats(t));
        var x = torch.ones(3, 2, requires_grad: true);
        group.AllGatherWithGrad(x).sum().backward();
        Assert.Equal(Enumerable.Repeat(1f, 6), Floats(x.grad!));
    }

    [Fact]
    public void AllReduce_NonContiguous_ThrowsNamingShapeAndGroupStaysUsable()
    {
        using var group = SingleRank();
        var t = torch.ones(3, 4).T;
        var error = Assert.Throws<ArgumentException>(() => group.AllReduce(t));
        Assert.Contains("[4, 3]", error.Message);
        Assert.Contains("contiguous", error.Message);
        group.AllReduce(torch.ones(2));
    }

    [Fact]
    public void AllReduce_AverageOfIntegers_IsRefusedNamingType()
    {
        using var group = SingleRank();
        var error = Assert.Throws<CollectiveException>(() => group.AllReduce(torch.ones(2, ScalarType.Int64), ReduceOp.Average));
        Assert.Equal(CollectiveError.InvalidArgument, error.Error);
        Assert.Contains("int64", error.Message);
        group.AllReduce(torch.ones(2, ScalarType.Int64), ReduceOp.Sum); // still usable
    }

    [Fact]
    public void Collectives_UnsupportedTypeOrDevice_ThrowNamingIt()
    {
        using var group = SingleRank();
        Assert.Contains("Int16", Assert.Throws<ArgumentException>(() => group.AllReduce(torch.ones(2, ScalarType.Int16))).Message);
        var broadcast = Assert.Throws<CollectiveException>(() => group.Broadcast(torch.ones(2), root: 1));
        Assert.Contains("root 1", broadcast.Message);
        Assert.Contains("at least one dimension", Assert.Throws<ArgumentException>(() => group.AllGather(torch.tensor(1f))).Message);
    }

    [Fact]
    public void ProcessGroup_Disposed_ThrowsObjectDisposed()
    {
        var group = SingleRank();
        group.Dispose();
        Assert.Throws<ObjectDisposedException>(() => group.AllReduce(torch.ones(1)));
    }

    [Fact]
    public void TwoGroupsOnOneStore_UseSeparateKeys()
    {
        // The second group on the same store object gets its own key prefix, so stale keys of the first cannot satisfy it.
        var store = Store();
        using (ProcessGroup.Create(store, 0, 1, torch.CPU, TimeSpan.FromSeconds(5))) { }
        using (ProcessGroup.Create(store, 0, 1, torch.CPU, TimeSpan.FromSeconds(5))) { }
        var keys = Directory.GetFiles(_directory).Select(Path.GetFileName).Select(k => Uri.UnescapeDataString(k!)).ToList();
        Assert.Contains("cmm-collectives/gloo/0/rank_0", keys);
        Assert.Contains("cmm-collectives/gloo/1/rank_0", keys);
    }

    [Fact]
    public async Task Timeout_SetAfterCreation_BoundsTheCollectivesOfTheGroupsNewGroupMade()
    {
        // Two ranks in this process. Created with a minute's timeout, then set to 1 s as a worker does from its
        // heartbeat timeout: an all-reduce on the bucket group NewGroup made, which the other rank never joins, fails in
        // about that second, not the minute.
        using var two = await TwoRanksAsync();
        var ranks = two.Ranks;
        ranks[0].Parent.Timeout = TimeSpan.FromSeconds(1);
        Assert.Equal(TimeSpan.FromSeconds(1), ranks[0].Buckets.Timeout);
        Assert.Equal(TimeSpan.FromMinutes(1), ranks[1].Buckets.Timeout); // another rank's setting is its own
        using var tensor = torch.ones(4);
        var watch = Stopwatch.StartNew();
        var error = Assert.Throws<CollectiveException>(() => ranks[0].Buckets.AllReduce(tensor));
        Assert.Equal(CollectiveError.Timeout, error.Error);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), $"took {watch.Elapsed}");
        Assert.Throws<ArgumentOutOfRangeException>(() => ranks[0].Parent.Timeout = TimeSpan.Zero);
    }

    [Fact]
    public async Task WaitingOnPeersFor_LastsWhileARankWaitsForALatePeer_OnEveryGroupOfTheFamily()
    {
        // What a worker's keep-alive reads: rank 0 all-reduces on the bucket group while rank 1 comes 1.5 s late; the
        // parent group sees the wait, and sees none before or after.
        using var two = await TwoRanksAsync();
        var ranks = two.Ranks;
        Assert.Null(ranks[0].Parent.WaitingOnPeersFor);
        var early = Task.Run(() => { using var t = torch.ones(4); ranks[0].Buckets.AllReduce(t); });
        var seen = new List<TimeSpan>();
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < TimeSpan.FromSeconds(1.5))
        {
            if (ranks[0].Parent.WaitingOnPeersFor is { } waited) seen.Add(waited);
            await Task.Delay(100);
        }
        Assert.NotEmpty(seen);
        Assert.True(seen[^1] > TimeSpan.FromSeconds(1), $"the wait was seen lasting only {seen[^1]}");
        Assert.Null(ranks[1].Parent.WaitingOnPeersFor); // the late rank has not waited for anyone
        using (var t = torch.ones(4)) ranks[1].Buckets.AllReduce(t);
        await early;
        Assert.Null(ranks[0].Parent.WaitingOnPeersFor);
        Assert.Null(ranks[0].Buckets.WaitingOnPeersFor);
    }

    /// <summary>Two ranks in this process, each with its own store object (as each process has) and a bucket group made by NewGroup.</summary>
    private async Task<TwoRanks> TwoRanksAsync() => new(await Task.WhenAll(Enumerable.Range(0, 2).Select(rank => Task.Run(() =>
    {
        var group = ProcessGroup.Create(Store(), rank, 2, torch.CPU, TimeSpan.FromMinutes(1));
        return (Parent: group, Buckets: group.NewGroup());
    }))));

    private sealed class TwoRanks((ProcessGroup Parent, ProcessGroup Buckets)[] ranks) : IDisposable
    {
        public (ProcessGroup Parent, ProcessGroup Buckets)[] Ranks => ranks;

        public void Dispose()
        {
            foreach (var (parent, buckets) in ranks.Reverse())
            {
                buckets.Dispose();
                parent.Dispose();
            }
        }
    }

    [Fact]
    public void FileStore_MissingKey_TimesOutNamingKey()
    {
        var error = Assert.Throws<TimeoutException>(() => Store().Get("never-set", TimeSpan.FromMilliseconds(50)));
        Assert.Contains("never-set", error.Message);
    }
}
