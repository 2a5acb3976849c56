using CommerceMM.Data.Loading;

namespace CommerceMM.Data.Tests.Loading;

public class RankPlanTests
{
    public static TheoryData<int, int, int> Sweep()
    {
        var data = new TheoryData<int, int, int>();
        foreach (int world in new[] { 1, 2, 3, 4 })
            foreach (int batch in new[] { 1, 5, 7 })
                foreach (int cursor in new[] { 0, 13, 101 })
                    data.Add(world, batch, cursor);
        return data;
    }

    [Theory]
    [MemberData(nameof(Sweep))]
    public void Batch_AllRanks_CoverTheRestOfTheEpochExactlyOnceInEqualSteps(int world, int batch, int cursor)
    {
        const int samples = 103;
        var seen = new List<long>();
        var steps = new HashSet<long>();
        for (int rank = 0; rank < world; rank++)
        {
            var plan = new RankPlan(samples, cursor, world, rank, batch);
            steps.Add(plan.Steps);
            for (long s = 0; s < plan.Steps; s++)
            {
                long[] positions = plan.Batch(s);
                Assert.True(positions.Length <= batch);
                seen.AddRange(positions);
            }
        }
        Assert.Single(steps); // every rank runs the same number of steps (collectives stay matched)
        Assert.Equal(Enumerable.Range(cursor, samples - cursor).Select(i => (long)i), seen.Order());
    }

    [Fact]
    public void Batch_FullSteps_ConsumeWorldTimesBatchFromTheCursor()
    {
        var plans = Enumerable.Range(0, 3).Select(r => new RankPlan(100, 10, 3, r, 4)).ToArray();
        var firstStep = plans.SelectMany(p => p.Batch(0)).Order();
        Assert.Equal(Enumerable.Range(10, 12).Select(i => (long)i), firstStep);
    }
}
