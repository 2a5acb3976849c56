using CommerceMM.Coordinator.Contracts;
using CommerceMM.Coordinator.Tests.Support;

namespace CommerceMM.Coordinator.Tests.Api;

/// <summary>A job is Completed only with its last step saved: the steps after the last commit live only in the workers.</summary>
public sealed class CompletionTests
{
    [Fact]
    public async Task Complete_ReportedByRank_CompletesJob()
    {
        await using TestCoordinator coordinator = await TestCoordinator.StartAsync();
        IReadOnlyList<JoinResponse> joined = await coordinator.JoinAllAsync("w0", "w1");
        TestClient client = coordinator.Client();
        await CheckpointFiles.CommitAsync(coordinator, joined, 100); // the final checkpoint

        OrderReply reply = await client.CompleteAsync(new CompletionReport("w0", 1, 0, 100));
        await client.StopAsync(); // a late stop must not turn Completed into Stopped

        Assert.Equal((WorkerOrder.Stop, JobState.Completed), (reply.Order, reply.JobState));
        Assert.Equal(JobState.Completed, (await client.GetStatusAsync()).State);
    }

    [Fact]
    public async Task Complete_WithoutTheFinalCheckpoint_EndsTheJobFailed_NamingTheStepsToRedo()
    {
        await using TestCoordinator coordinator = await TestCoordinator.StartAsync();
        IReadOnlyList<JoinResponse> joined = await coordinator.JoinAllAsync("w0", "w1");
        TestClient client = coordinator.Client();
        await CheckpointFiles.CommitAsync(coordinator, joined, 10);
        await client.OrderCheckpointAsync(new CheckpointOrderRequest(1, AtStep: 20, Reason: "final"));
        await client.VoteCheckpointAsync(CheckpointFiles.Vote(joined[1], "w1", 20, []) with { Failure = "No space left on device" });

        OrderReply reply = await client.CompleteAsync(new CompletionReport("w0", 1, 0, 20));

        Assert.Equal((WorkerOrder.Stop, JobState.Failed, 10L), (reply.Order, reply.JobState, reply.LastCommittedStep));
        JobStatusView status = await client.GetStatusAsync();
        Assert.Equal(JobState.Failed, status.State);
        Assert.Equal("rank 0 reached the last step 20, but the final checkpoint was not committed (last checkpoint failure: checkpoint at step 20 " +
                     "was not committed: rank 1 could not save its part: No space left on device); the last committed checkpoint is step 10: " +
                     "fix that and launch the job again, which redoes steps 10..20 and saves them", status.StateReason);
    }

    [Fact]
    public async Task Complete_WhileAnotherRankStillSavesTheFinalCheckpoint_SaysWait_ThenCompletesOnceItCommits()
    {
        await using TestCoordinator coordinator = await TestCoordinator.StartAsync();
        IReadOnlyList<JoinResponse> joined = await coordinator.JoinAllAsync("w0", "w1");
        TestClient client = coordinator.Client();
        await client.OrderCheckpointAsync(new CheckpointOrderRequest(1, AtStep: 20, Reason: "final"));
        await client.VoteCheckpointAsync(CheckpointFiles.Vote(joined[0], "w0", 20, await CheckpointFiles.UploadAsync(coordinator.Store, "job-a", 20, 0)));

        JobState before = (await client.GetStatusAsync()).State;

        OrderReply early = await client.CompleteAsync(new CompletionReport("w0", 1, 0, 20));
        JobState meanwhile = (await client.GetStatusAsync()).State;
        CheckpointVoteReply last = await client.VoteCheckpointAsync(CheckpointFiles.Vote(joined[1], "w1", 20, await CheckpointFiles.UploadAsync(coordinator.Store, "job-a", 20, 1)));
        OrderReply done = await client.CompleteAsync(new CompletionReport("w0", 1, 0, 20));

        Assert.Equal((WorkerOrder.None, 20L), (early.Order, early.CheckpointStep));
        Assert.Equal("the final checkpoint at step 20 waits for 1 more rank(s)", early.Reason);
        Assert.Equal(before, meanwhile);
        Assert.Equal(CheckpointVoteStatus.Committed, last.Status);
        Assert.Equal((WorkerOrder.Stop, JobState.Completed, 20L), (done.Order, done.JobState, done.LastCommittedStep));
    }
}
