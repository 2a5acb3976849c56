using CommerceMM.Observability.Metrics;
using CommerceMM.Observability.Tests.Support;

namespace CommerceMM.Observability.Tests.Coordinator;

public sealed class FleetMetricsTests
{
    private static Dictionary<string, double> Series(Recorders recorders, string name) =>
        Support.Exposition.Samples(recorders.Pipeline.Scrape())
            .Where(s => s.Name == name)
            .ToDictionary(s => s.Labels, s => s.Value);

    [Fact]
    public void Scrape_WorkersBeforeAnyUpdate_ExportsEveryStateAtZero()
    {
        using var recorders = new Recorders();

        var workers = Series(recorders, MetricNames.Workers);

        Assert.Equal(WorkerStates.All.Select(s => $"state=\"{s}\"").Order(), workers.Keys.Order());
        Assert.All(workers.Values, v => Assert.Equal(0, v));
    }

    [Fact]
    public void Scrape_JobState_IsAbsentUntilKnown_ThenOneForTheCurrentStateAndZeroForTheRest()
    {
        using var recorders = new Recorders();
        var unknown = Series(recorders, MetricNames.JobState);

        recorders.Fleet.SetJobState(JobStates.Running);
        recorders.Fleet.SetJobState(JobStates.Failed);
        var failed = Series(recorders, MetricNames.JobState);

        Assert.Empty(unknown);
        Assert.Equal(JobStates.All.Select(s => $"state=\"{s}\"").Order(), failed.Keys.Order());
        Assert.Equal(1, failed["state=\"failed\""]);
        Assert.Equal(0, failed.Where(kv => kv.Key != "state=\"failed\"").Sum(kv => kv.Value));
        Assert.Contains("known: pending, running, completed, failed, stopped",
            Assert.Throws<ArgumentException>(() => recorders.Fleet.SetJobState("Failed")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Scrape_HeartbeatAge_GrowsWithTheClockUntilTheNextHeartbeat()
    {
        using var recorders = new Recorders();
        recorders.Fleet.RecordHeartbeat(0);
        recorders.Fleet.RecordHeartbeat(3);

        recorders.Time.Advance(TimeSpan.FromSeconds(7));
        recorders.Fleet.RecordHeartbeat(3);
        recorders.Time.Advance(TimeSpan.FromSeconds(2));
        var ages = Series(recorders, MetricNames.HeartbeatAge);

        Assert.Equal(9, ages["rank=\"0\""]);
        Assert.Equal(2, ages["rank=\"3\""]);
    }

    [Fact]
    public void SetGeneration_NewGeneration_DropsOldRanksHeartbeatsAndStepTimes()
    {
        using var recorders = new Recorders();
        recorders.Fleet.SetGeneration(1);
        recorders.Fleet.RecordHeartbeat(5);
        for (var i = 0; i < 6; i++)
        {
            recorders.Fleet.ObserveStepTime(4, TimeSpan.FromSeconds(1));
            recorders.Fleet.ObserveStepTime(5, TimeSpan.FromSeconds(1));
        }

        recorders.Fleet.SetGeneration(2);
        var text = recorders.Pipeline.Scrape();

        Assert.DoesNotContain("rank=", text, StringComparison.Ordinal);
        Assert.Equal(2, Support.Exposition.Samples(text).Single(s => s.Name == MetricNames.Generation).Value);
        Assert.Empty(recorders.Fleet.RankStatuses);
    }

    [Fact]
    public void Scrape_StragglerRank_ExportsFlagAndRatio()
    {
        using var recorders = new Recorders();
        for (var i = 0; i < 10; i++)
        {
            recorders.Fleet.ObserveStepTime(0, TimeSpan.FromMilliseconds(100));
            recorders.Fleet.ObserveStepTime(1, TimeSpan.FromMilliseconds(100));
            recorders.Fleet.ObserveStepTime(2, TimeSpan.FromMilliseconds(200));
        }

        var flags = Series(recorders, MetricNames.Straggler);
        var ratios = Series(recorders, MetricNames.StepTimeRatio);

        Assert.Equal(new Dictionary<string, double> { ["rank=\"0\""] = 0, ["rank=\"1\""] = 0, ["rank=\"2\""] = 1 }, flags);
        Assert.Equal(2.0, ratios["rank=\"2\""], 9);
    }

    [Fact]
    public void Scrape_CheckpointAge_CountsFromStartThenFromLastCommit()
    {
        using var recorders = new Recorders(listenToTraining: false);
        recorders.Time.Advance(TimeSpan.FromMinutes(10));
        Assert.Equal(600, Series(recorders, MetricNames.CheckpointAge)[""]);
        Assert.False(Series(recorders, MetricNames.CheckpointLastCommittedStep).ContainsKey(""));

        recorders.Fleet.RecordCheckpointCommitted(500);
        recorders.Fleet.RecordCheckpointCommitted(400); // a late, older commit must not move it back
        recorders.Time.Advance(TimeSpan.FromSeconds(30));

        Assert.Equal(500, Series(recorders, MetricNames.CheckpointLastCommittedStep)[""]);
        Assert.Equal(30, Series(recorders, MetricNames.CheckpointAge)[""]);
    }

    [Fact]
    public void SetWorkers_UnknownState_ThrowsListingTheKnownOnes()
    {
        using var recorders = new Recorders();

        var error = Assert.Throws<ArgumentException>(() => recorders.Fleet.SetWorkers("zombie", 1));

        Assert.Contains(WorkerStates.Active, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(65_536)]
    public void RecordHeartbeat_RankOutOfRange_Throws(int rank)
    {
        using var recorders = new Recorders();

        Assert.Throws<ArgumentOutOfRangeException>(() => recorders.Fleet.RecordHeartbeat(rank));
    }
}
