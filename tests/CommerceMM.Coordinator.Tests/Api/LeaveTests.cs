using System.Net;
using CommerceMM.Coordinator.Client;
using CommerceMM.Coordinator.Contracts;
using CommerceMM.Coordinator.Tests.Support;

namespace CommerceMM.Coordinator.Tests.Api;

/// <summary>
/// A preempted worker leaves after a checkpoint (SIGTERM orders it with itself as leaver): the others go on without it in
/// a new generation, which is no restart, and it joins again later, at a checkpoint; when every worker leaves, the job stops
/// there until one joins again.
/// </summary>
public sealed class LeaveTests
{
    private static CheckpointOrderRequest Leaving(string worker, long step) => new(1, AtStep: step, Reason: "preempted (SIGTERM)", Leaving: worker);

    [Fact]
    public async Task OneOfTwoLeaving_AfterTheCommit_TheOtherGoesOnAlone_AndTheLeaverGrowsItBackAtACheckpoint_WithoutRestarts()
    {
        await using TestCoordinator coordinator = await TestCoordinator.StartAsync();
        IReadOnlyList<JoinResponse> joined = await coordinator.JoinAllAsync("w0", "w1");
        TestClient client = coordinator.Client();
        CheckpointOrderView order = await client.OrderCheckpointAsync(Leaving("w1", 9));
        OrderReply heard = await client.HeartbeatAsync(TestCoordinator.Beat(joined[0], "w0", 8));

        await CheckpointFiles.CommitAsync(coordinator, joined, 9, order: false);
        OrderReply survivor = await client.HeartbeatAsync(TestCoordinator.Alive(joined[0], "w0", 9));
        var leaver = await Assert.ThrowsAsync<CoordinatorException>(() => client.HeartbeatAsync(TestCoordinator.Alive(joined[1], "w1", 9)));
        JoinResponse alone = await client.TryJoinAsync("w0");
        JobStatusView afterLeaving = await client.GetStatusAsync();

        Assert.Equal(["w1"], order.Leaving);
        Assert.Equal((WorkerOrder.Checkpoint, 9L, true), (heard.Order, heard.CheckpointStep, heard.GenerationEndsAtCheckpoint));
        Assert.Equal((WorkerOrder.Rejoin, 2L), (survivor.Order, survivor.Generation));
        Assert.Contains("rank 1 (worker 'w1') left after checkpoint at step 9 (preempted (SIGTERM)); going on with 1 worker(s)", survivor.Reason, StringComparison.Ordinal);
        Assert.True(leaver.MustRejoin);
        Assert.Equal((JoinStatus.Assigned, 2L, 0, 1), (alone.Status, alone.Generation, alone.Rank, alone.WorldSize)); // no wait for the leaver
        Assert.Equal((JobState.Running, 0, 9L), (afterLeaving.State, afterLeaving.Restarts, afterLeaving.LastCommittedCheckpoint!.Step));

        // Its pod re-created, the leaver comes back as a new process. It waits while the job grows at a checkpoint, so that
        // the step the other reached alone is kept, not redone.
        await client.HeartbeatAsync(TestCoordinator.Beat(alone, "w0", 12));
        TestClient back = coordinator.Client(incarnation: "w1-again");
        JoinResponse waiting = await back.TryJoinAsync("w1");
        JobStatusView whileWaiting = await client.GetStatusAsync();
        OrderReply growth = await client.HeartbeatAsync(TestCoordinator.Beat(alone, "w0", 13));
        long at = growth.CheckpointStep!.Value;
        CheckpointVoteReply saved = await client.VoteCheckpointAsync(CheckpointFiles.Vote(alone, "w0", at, await CheckpointFiles.UploadAsync(coordinator.Store, "job-a", at, 0)));
        OrderReply regrouped = await client.HeartbeatAsync(TestCoordinator.Alive(alone, "w0", at));
        await client.TryJoinAsync("w0");
        JoinResponse grown = await back.TryJoinAsync("w1");
        JobStatusView afterGrowing = await client.GetStatusAsync();

        Assert.Equal((JoinStatus.Waiting, 2L), (waiting.Status, waiting.Generation));
        Assert.Contains(whileWaiting.Members, m => (m.WorkerId, m.Rank, m.State) == ("w1", null, MemberState.Waiting)); // status shows it waiting
        Assert.Equal((WorkerOrder.Checkpoint, true), (growth.Order, growth.GenerationEndsAtCheckpoint));
        Assert.True(at > 12, $"the growth checkpoint at step {at} is not ahead of the rank");
        Assert.Equal(CheckpointVoteStatus.Committed, saved.Status);
        Assert.Equal((WorkerOrder.Rejoin, 3L), (regrouped.Order, regrouped.Generation));
        Assert.Contains($"worker 'w1' joined after checkpoint at step {at}; going on with 2 worker(s)", regrouped.Reason, StringComparison.Ordinal);
        Assert.Equal((JoinStatus.Assigned, 3L, 2), (grown.Status, grown.Generation, grown.WorldSize));
        Assert.Equal((3L, 0, at), (afterGrowing.Generation, afterGrowing.Restarts, afterGrowing.LastCommittedCheckpoint!.Step));
    }

    [Fact]
    public async Task Newcomer_WhileACheckpointIsBeingSaved_WaitsForIt_ThenTheJobGrowsAtTheNextOne()
    {
        await using TestCoordinator coordinator = await TestCoordinator.StartAsync(new JobSpec("job-a", Workers: 2));
        JoinResponse alone = (await coordinator.JoinAllAsync("w0"))[0];
        TestClient client = coordinator.Client();
        coordinator.Time.AdvanceSeconds(31); // the first rendezvous gives up waiting for a second worker
        alone = await client.TryJoinAsync("w0");
        await client.OrderCheckpointAsync(new CheckpointOrderRequest(alone.Generation, AtStep: 5));
        await client.HeartbeatAsync(TestCoordinator.Beat(alone, "w0", 5)); // reached: its files are uploading

        JoinResponse waiting = await coordinator.Client(incarnation: "w1-new").TryJoinAsync("w1");
        CheckpointOrderView? during = (await client.GetCheckpointsAsync()).Pending;

        Assert.Equal((JoinStatus.Assigned, 1), (alone.Status, alone.WorldSize));
        Assert.Equal(JoinStatus.Waiting, waiting.Status);
        Assert.Equal((5L, false), (during!.Step, during.EndsGeneration)); // the ranks saving it could not be held there
    }

    [Fact]
    public async Task Heartbeat_WhileItsVotedCheckpointIsOpen_NamesIt_AndOnceThatFailed_NamesNone()
    {
        // What a rank holding at a checkpoint that ends the generation tells "still collecting votes" from "failed" by.
        await using TestCoordinator coordinator = await TestCoordinator.StartAsync();
        IReadOnlyList<JoinResponse> joined = await coordinator.JoinAllAsync("w0", "w1");
        TestClient client = coordinator.Client();
        await client.OrderCheckpointAsync(Leaving("w1", 9));
        await client.VoteCheckpointAsync(CheckpointFiles.Vote(joined[0], "w0", 9, await CheckpointFiles.UploadAsync(coordinator.Store, "job-a", 9, 0)));

        OrderReply open = await client.HeartbeatAsync(TestCoordinator.Alive(joined[0], "w0", 9));
        await client.VoteCheckpointAsync(CheckpointFiles.Vote(joined[1], "w1", 9, []) with { Failure = "the disk is full" });
        OrderReply failed = await client.HeartbeatAsync(TestCoordinator.Alive(joined[0], "w0", 9));

        Assert.Equal((WorkerOrder.None, 9L, null), (open.Order, open.OpenCheckpointStep, open.LastCommittedStep));
        Assert.Equal((WorkerOrder.None, null, null, 1L), (failed.Order, failed.OpenCheckpointStep, failed.LastCommittedStep, failed.Generation));
    }

    [Fact]
    public async Task EveryWorkerLeaving_AtStepsOneApart_LeaveTogether_AndTheJobStops()
    {
        await using TestCoordinator coordinator = await TestCoordinator.StartAsync();
        IReadOnlyList<JoinResponse> joined = await coordinator.JoinAllAsync("w0", "w1");
        TestClient client = coordinator.Client();
        await client.OrderCheckpointAsync(Leaving("w0", 9));
        CheckpointOrderView both = await client.OrderCheckpointAsync(Leaving("w1", 10)); // w1 heard SIGTERM a step later

        await CheckpointFiles.CommitAsync(coordinator, joined, 10, order: false);
        OrderReply after = await client.HeartbeatAsync(TestCoordinator.Alive(joined[0], "w0", 10));

        Assert.Equal(10, both.Step);
        Assert.Equal(["w0", "w1"], both.Leaving);
        Assert.Equal((WorkerOrder.Stop, JobState.Stopped), (after.Order, after.JobState));
        Assert.Contains("every worker left; resumable", after.Reason, StringComparison.Ordinal);
        Assert.Equal(0, (await client.GetStatusAsync()).Restarts);
    }

    [Fact]
    public async Task EveryWorkerLeaving_StopsTheJob_UntilAWorkerJoins_WhichResumesItFromThatCheckpoint_WithoutARestart()
    {
        // A spot reclaim of every node at once looks like a deleted Job: every worker leaves at one checkpoint. Their pods
        // are re-created, and the first to join reopens the job, instead of finding it Stopped and completing the Indexed
        // Job with the training unfinished.
        await using TestCoordinator coordinator = await TestCoordinator.StartAsync(new JobSpec("job-a", Workers: 2, MaxRestarts: 0));
        IReadOnlyList<JoinResponse> joined = await coordinator.JoinAllAsync("w0", "w1");
        TestClient client = coordinator.Client();
        await client.OrderCheckpointAsync(Leaving("w0", 9));
        await client.OrderCheckpointAsync(Leaving("w1", 9));
        await CheckpointFiles.CommitAsync(coordinator, joined, 9, order: false);
        OrderReply stop = await client.HeartbeatAsync(TestCoordinator.Alive(joined[1], "w1", 9));

        JoinResponse first = await coordinator.Client(incarnation: "w1-again").TryJoinAsync("w1");
        JobStatusView reopened = await client.GetStatusAsync();
        JoinResponse second = await coordinator.Client(incarnation: "w0-again").TryJoinAsync("w0");
        JoinResponse firstAgain = await coordinator.Client(incarnation: "w1-again").TryJoinAsync("w1");
        JobStatusView running = await client.GetStatusAsync();

        Assert.Equal((WorkerOrder.Stop, JobState.Stopped), (stop.Order, stop.JobState));
        Assert.Contains("every worker left; resumable, and the next worker to join resumes it", stop.Reason, StringComparison.Ordinal);
        Assert.Equal((JoinStatus.Waiting, 2L), (first.Status, first.Generation)); // it waits for the other, as at a start
        Assert.Equal((JobState.Pending, 2L, true), (reopened.State, reopened.Generation, reopened.RendezvousOpen));
        Assert.StartsWith("worker 'w1' joined after: Stopped (stopped after checkpoint at step 9", reopened.StateReason, StringComparison.Ordinal);
        Assert.Equal((JoinStatus.Assigned, 2L, 0, 2), (second.Status, second.Generation, second.Rank, second.WorldSize)); // its old rank
        Assert.Equal((JoinStatus.Assigned, 1), (firstAgain.Status, firstAgain.Rank));
        Assert.Equal((JobState.Running, 0, 9L), (running.State, running.Restarts, running.LastCommittedCheckpoint!.Step)); // no restart counted
    }

    [Fact]
    public async Task LastWorkerLeaving_AfterAnotherLeftAndHasNotReturned_IsNoStop_TheJobWaitsAndResumesWhenOneJoins()
    {
        // Preemptions one after another, as a spot fleet's: w1 leaves, and before its pod is back, w0 leaves too. That is no
        // stop of the job; a stop would have the returning pods exit 0 and the Indexed Job complete with the training unfinished.
        await using TestCoordinator coordinator = await TestCoordinator.StartAsync();
        IReadOnlyList<JoinResponse> joined = await coordinator.JoinAllAsync("w0", "w1");
        TestClient client = coordinator.Client();
        await client.OrderCheckpointAsync(Leaving("w1", 9));
        await CheckpointFiles.CommitAsync(coordinator, joined, 9, order: false);
        await client.HeartbeatAsync(TestCoordinator.Alive(joined[0], "w0", 9));
        JoinResponse alone = await client.TryJoinAsync("w0");

        await client.OrderCheckpointAsync(Leaving("w0", 14) with { Generation = alone.Generation });
        CheckpointVoteReply saved = await client.VoteCheckpointAsync(CheckpointFiles.Vote(alone, "w0", 14, await CheckpointFiles.UploadAsync(coordinator.Store, "job-a", 14, 0)));
        var left = await Assert.ThrowsAsync<CoordinatorException>(() => client.HeartbeatAsync(TestCoordinator.Alive(alone, "w0", 14)));
        JobStatusView empty = await client.GetStatusAsync();
        JoinResponse back = await coordinator.Client(incarnation: "w1-again").TryJoinAsync("w1");

        Assert.Equal(CheckpointVoteStatus.Committed, saved.Status);
        Assert.True(left.MustRejoin); // the leaver exits 75, to be started again
        Assert.Equal((JobState.Running, 3L, true, 0, 14L), (empty.State, empty.Generation, empty.RendezvousOpen, empty.Restarts, empty.LastCommittedCheckpoint!.Step));
        Assert.Contains("rank 0 (worker 'w0') left after checkpoint at step 14 (preempted (SIGTERM)); waiting for workers to join (up to 2)", empty.StateReason, StringComparison.Ordinal);
        Assert.Equal((JoinStatus.Assigned, 3L, 0, 1), (back.Status, back.Generation, back.Rank, back.WorldSize));
    }

    [Fact]
    public async Task Leaving_AtTheLastStep_IsTheFinalCheckpoint_WhichNobodyLeaves()
    {
        await using TestCoordinator coordinator = await TestCoordinator.StartAsync(new JobSpec("job-a", Workers: 2, MaxSteps: 10));
        IReadOnlyList<JoinResponse> joined = await coordinator.JoinAllAsync("w0", "w1");
        TestClient client = coordinator.Client();
        await client.OrderCheckpointAsync(Leaving("w0", 9));

        CheckpointOrderView final = await client.OrderCheckpointAsync(new CheckpointOrderRequest(1, AtStep: 10, Reason: "final"));
        OrderReply heard = await client.HeartbeatAsync(TestCoordinator.Beat(joined[1], "w1", 9));
        await CheckpointFiles.CommitAsync(coordinator, joined, 10, order: false);
        JobStatusView status = await client.GetStatusAsync();

        Assert.Empty(final.Leaving);
        Assert.False(heard.GenerationEndsAtCheckpoint);
        Assert.Equal((JobState.Running, 1L), (status.State, status.Generation));
    }

    [Theory]
    [InlineData("w0\n", "leaving: required: 1 to 200 printable characters")]
    [InlineData("w7", "worker 'w7' holds no rank in generation 1")]
    public async Task Leaving_NotARankHoldersId_IsRefusedNamingTheField(string leaving, string expected)
    {
        await using TestCoordinator coordinator = await TestCoordinator.StartAsync();
        await coordinator.JoinAllAsync("w0", "w1");

        var refused = await Assert.ThrowsAsync<CoordinatorException>(() => coordinator.Client().OrderCheckpointAsync(Leaving(leaving, 9)));

        Assert.Equal(HttpStatusCode.BadRequest, refused.Status);
        Assert.Contains(expected, refused.Message, StringComparison.Ordinal);
        Assert.Null((await coordinator.Client().GetCheckpointsAsync()).Pending);
    }
}
