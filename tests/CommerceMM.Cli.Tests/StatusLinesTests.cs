using CommerceMM.Cli.Commands;
using CommerceMM.Coordinator.Contracts;

namespace CommerceMM.Cli.Tests;

public sealed class StatusLinesTests
{
    private static readonly MemberView Rank0 = new("local-1", 0, MemberState.Running, 34, 0.5, 0.5, 0.0, null);

    private static JobStatusView Status(JobState state, string? checkpointFailure) =>
        new("job-s", state, null, 2, 0, 1, false, 100, 30, [Rank0], new CommittedCheckpointView(20, 2, 1, DateTimeOffset.UnixEpoch), null,
            LastCheckpointFailure: checkpointFailure);

    [Fact]
    public void ACheckpointFailure_IsShownUnderTheLastCommittedOne()
    {
        var lines = StatusCommand.Lines(Status(JobState.Running, "checkpoint at step 40 was not committed: disk full")).ToList();

        int committed = lines.FindIndex(l => l.StartsWith("last committed checkpoint: step 20", StringComparison.Ordinal));
        Assert.Equal("last checkpoint failure: checkpoint at step 40 was not committed: disk full", lines[committed + 1]);
        Assert.DoesNotContain(StatusCommand.Lines(Status(JobState.Running, null)), l => l.StartsWith("last checkpoint failure", StringComparison.Ordinal));
    }

    [Fact]
    public void AStopRequest_SaysWhichCheckpointTheJobStopsAt()
    {
        var order = new CheckpointOrderView(2, 44, 1, "stop requested", [], [], EndsGeneration: true);

        Assert.Contains("stop requested: the job stops once the checkpoint at step 44 commits",
            StatusCommand.Lines(Status(JobState.Running, null) with { StopRequested = true, PendingCheckpoint = order }));
        Assert.Contains("stop requested: the job stops once its next checkpoint commits", StatusCommand.Lines(Status(JobState.Running, null) with { StopRequested = true }));
        Assert.DoesNotContain(StatusCommand.Lines(Status(JobState.Running, null)), l => l.StartsWith("stop requested", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(JobState.Running, "Running")]
    [InlineData(JobState.Stopped, "Exited")]
    [InlineData(JobState.Completed, "Exited")]
    public void Members_OfAnEndedJob_ShowAsExited(JobState job, string shown)
    {
        string row = Assert.Single(StatusCommand.Lines(Status(job, null)), l => l.StartsWith("local-1", StringComparison.Ordinal));

        Assert.Equal(shown, row.Split(' ', StringSplitOptions.RemoveEmptyEntries)[2]);
    }
}
