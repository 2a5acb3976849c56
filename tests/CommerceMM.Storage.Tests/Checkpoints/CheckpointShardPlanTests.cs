using CommerceMM.Storage.Checkpoints;

namespace CommerceMM.Storage.Tests.Checkpoints;

public sealed class CheckpointShardPlanTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(8)]
    public void Assign_AnyWorldSize_GivesEveryFileOneValidOwnerAndBalancesWithinLargestFile(int worldSize)
    {
        var files = Enumerable.Range(0, 11).Select(i => ($"f{i}", (long)(1000 + (i * 377 % 5000)))).ToList();

        int[] owners = CheckpointShardPlan.Assign(files, worldSize);

        Assert.All(owners, o => Assert.InRange(o, 0, worldSize - 1));
        long[] load = new long[worldSize];
        for (int i = 0; i < files.Count; i++)
        {
            load[owners[i]] += files[i].Item2;
        }

        Assert.True(load.Max() - load.Min() <= files.Max(f => f.Item2), $"loads {string.Join(",", load)}");
    }

    [Fact]
    public void Assign_FilesListedInAnotherOrder_GivesEachFileTheSameOwner()
    {
        var files = new List<(string, long)> { ("a", 5), ("b", 5), ("c", 9), ("d", 1) };
        var reversed = Enumerable.Reverse(files).ToList();

        int[] owners = CheckpointShardPlan.Assign(files, 2);
        int[] reversedOwners = CheckpointShardPlan.Assign(reversed, 2);

        for (int i = 0; i < files.Count; i++)
        {
            Assert.Equal(owners[i], reversedOwners[files.Count - 1 - i]);
        }
    }
}
