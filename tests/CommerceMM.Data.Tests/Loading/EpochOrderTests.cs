using CommerceMM.Data.Loading;

namespace CommerceMM.Data.Tests.Loading;

public class EpochOrderTests
{
    private static readonly int[] Shards = [50, 50, 50, 50, 40];

    [Fact]
    public void Build_SameInputs_SameOrder()
    {
        Assert.Equal(EpochOrder.Build(7, 3, 16, Shards), EpochOrder.Build(7, 3, 16, Shards));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(64)]
    [InlineData(1000)] // more partitions than samples: empty pieces are fine
    public void Build_AnyPartitionCount_IsAPermutation(int partitions)
    {
        var order = EpochOrder.Build(7, 0, partitions, Shards);
        Assert.Equal(Enumerable.Range(0, 240), order.Order());
    }

    [Fact]
    public void Build_OtherEpochSeedOrPartitions_GivesOtherOrder()
    {
        var baseline = EpochOrder.Build(7, 0, 16, Shards);
        Assert.NotEqual(baseline, EpochOrder.Build(7, 1, 16, Shards));
        Assert.NotEqual(baseline, EpochOrder.Build(8, 0, 16, Shards));
        Assert.NotEqual(baseline, EpochOrder.Build(7, 0, 8, Shards));
    }

    [Fact]
    public void Build_ShardAware_AWindowOfPartitionsTouchesFewShards()
    {
        // With 4 partitions, each round of 4 consecutive samples comes from at most 4 pieces,
        // each within at most 2 adjacent shards of the shuffled layout.
        var order = EpochOrder.Build(7, 0, 4, Shards);
        int ShardOf(int id) => id / 50;
        for (int start = 0; start + 4 <= 200; start += 4)
            Assert.True(order.Skip(start).Take(4).Select(ShardOf).Distinct().Count() <= 4);
        Assert.True(order.Take(40).Select(ShardOf).Distinct().Count() <= 5);
    }
}
