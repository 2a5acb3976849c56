using System.Net;
using CommerceMM.Coordinator.Client;
using CommerceMM.Coordinator.Contracts;
using CommerceMM.Coordinator.Tests.Support;

namespace CommerceMM.Coordinator.Tests.Api;

public sealed class HeartbeatTests
{
    [Fact]
    public async Task Heartbeat_OnTime_ContinuesAndShowsInStatus()
    {
        await using TestCoordinator coordinator = await TestCoordinator.StartAsync();
        IReadOnlyList<JoinResponse> joined = await coordinator.JoinAllAsync("w0", "w1");
        TestClient client = coordinator.Client();

        coordinator.Time.AdvanceSeconds(3);
        OrderReply reply = await client.HeartbeatAsync(TestCoordinator.Beat(joined[0], "w0", step: 7, stepSeconds: 0.5));

        Assert.Equal(WorkerOrder.None, reply.Order);
        Assert.Equal(1, reply.Generation);
        Assert.Equal(JobState.Running, reply.JobState);
        JobStatusView status = await client.GetStatusAsync();
        MemberView w0 = status.Members.Single(m => m.WorkerId == "w0");
        MemberView w1 = status.Members.Single(m => m.WorkerId == "w1");
        Assert.Equal((0, MemberState.Running, 7L, 0.0), (w0.Rank, w0.State, w0.LastStep, w0.HeartbeatAgeSeconds));
        Assert.Equal(2.5, w0.Losses!["mlm"]);
        Assert.Equal((1, MemberState.Starting, 3.0), (w1.Rank, w1.State, w1.HeartbeatAgeSeconds));
    }

    [Fact]
    public async Task Heartbeat_TimeoutDerivedFromStepTimes_NotFixed()
    {
        await using TestCoordinator coordinator = await TestCoordinator.StartAsync();
        IReadOnlyList<JoinResponse> joined = await coordinator.JoinAllAsync("w0", "w1");
        TestClient client = coordinator.Client();

        OrderReply fast = await client.HeartbeatAsync(TestCoordinator.Beat(joined[0], "w0", 1, stepSeconds: 0.5));
        for (int i = 0; i < 20; i++)
        {
            await client.HeartbeatAsync(TestCoordinator.Beat(joined[1], "w1", 2 + i, stepSeconds: 4));
        }

        OrderReply slow = await client.HeartbeatAsync(TestCoordinator.Beat(joined[0], "w0", 30, stepSeconds: 4));

        Assert.Equal(10, fast.HeartbeatTimeoutSeconds); // 5 x 0.5 s + 2 s is under the 10 s floor
        Assert.Equal(22, slow.HeartbeatTimeoutSeconds); // 5 x p95 (4 s) + the 2 s interval
    }

    [Fact]
    public async Task Heartbeat_MissedByOneRank_BumpsGenerationAndSurvivorsRejoinSmallerWorld()
    {
        await using TestCoordinator coordinator = await TestCoordinator.StartAsync(new JobSpec("job-a", Workers: 3, MinWorkers: 1));
        IReadOnlyList<JoinResponse> joined = await coordinator.JoinAllAsync("w0", "w1", "w2");
        TestClient client = coordinator.Client();
        foreach ((JoinResponse j, string id) in joined.Zip(["w0", "w1", "w2"]))
        {
            await client.HeartbeatAsync(TestCoordinator.Beat(j, id, 5, stepSeconds: 0.5));
        }

        coordinator.Time.AdvanceSeconds(6);
        await client.HeartbeatAsync(TestCoordinator.Beat(joined[0], "w0", 10));
        await client.HeartbeatAsync(TestCoordinator.Beat(joined[2], "w2", 10));
        coordinator.Time.AdvanceSeconds(6); // w1 silent for 12 s > 10 s timeout; the others for 6 s

        OrderReply w0 = await client.HeartbeatAsync(TestCoordinator.Beat(joined[0], "w0", 20));
        OrderReply w2 = await client.HeartbeatAsync(TestCoordinator.Beat(joined[2], "w2", 20));
        var dead = await Assert.ThrowsAsync<CoordinatorException>(() => client.HeartbeatAsync(TestCoordinator.Beat(joined[1], "w1", 20)));

        Assert.Equal((WorkerOrder.Rejoin, 2L), (w0.Order, w0.Generation));
        Assert.Equal((WorkerOrder.Rejoin, 2L), (w2.Order, w2.Generation));
        Assert.Contains("rank 1 (worker 'w1') missed its heartbeat", w0.Reason, StringComparison.Ordinal);
        Assert.True(dead.MustRejoin);
        Assert.Equal(2, dead.CurrentGeneration);

        JoinResponse first = await client.TryJoinAsync("w2");
        JoinResponse second = await client.TryJoinAsync("w0");
        JoinResponse again = await client.TryJoinAsync("w2");
        Assert.Equal(JoinStatus.Waiting, first.Status);
        Assert.Equal((JoinStatus.Assigned, 2L, 0, 2), (second.Status, second.Generation, second.Rank, second.WorldSize));
        Assert.Equal((JoinStatus.Assigned, 1, 2), (again.Status, again.Rank, again.WorldSize)); // survivors keep their relative order
        JobStatusView status = await client.GetStatusAsync();
        Assert.Equal((2L, 1, 2), (status.Generation, status.Restarts, status.WorldSize));
        ShardLedgerView shards = await client.GetShardsAsync();
        Assert.Equal([(0, "w0"), (1, "w2")], shards.Assignments.Select(a => (a.Partition, a.WorkerId)));
    }

    [Fact]
    public async Task Heartbeat_OfTheSameStepWithoutAStepTime_KeepsTheRankAlive_AndItsStepFiguresStand()
    {
        // What a rank waiting on its peers in a collective sends: it must not be evicted for the wait, and status must
        // still show the step it last finished.
        await using TestCoordinator coordinator = await TestCoordinator.StartAsync();
        IReadOnlyList<JoinResponse> joined = await coordinator.JoinAllAsync("w0", "w1");
        TestClient client = coordinator.Client();
        await client.HeartbeatAsync(TestCoordinator.Beat(joined[0], "w0", step: 7, stepSeconds: 0.5));
        await client.HeartbeatAsync(TestCoordinator.Beat(joined[1], "w1", step: 7, stepSeconds: 0.5));

        coordinator.Time.AdvanceSeconds(6);
        OrderReply alive = await client.HeartbeatAsync(TestCoordinator.Alive(joined[0], "w0", step: 7));
        Assert.Equal((WorkerOrder.None, 1L), (alive.Order, alive.Generation));

        // 12 s on: w0 was heard 6 s ago, w1 (the one holding the step up) 12 s ago, over the 10 s timeout.
        coordinator.Time.AdvanceSeconds(6);
        OrderReply rejoin = await client.HeartbeatAsync(TestCoordinator.Alive(joined[0], "w0", step: 7));
        Assert.Equal((WorkerOrder.Rejoin, 2L), (rejoin.Order, rejoin.Generation));
        JobStatusView status = await client.GetStatusAsync();
        Assert.Contains("rank 1 (worker 'w1') missed its heartbeat", status.StateReason, StringComparison.Ordinal);
        Assert.DoesNotContain("w0", status.StateReason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Heartbeat_OfTheSameStepWithoutAStepTime_ShowsTheLastFinishedStepsFigures()
    {
        await using TestCoordinator coordinator = await TestCoordinator.StartAsync();
        IReadOnlyList<JoinResponse> joined = await coordinator.JoinAllAsync("w0", "w1");
        TestClient client = coordinator.Client();
        await client.HeartbeatAsync(TestCoordinator.Beat(joined[0], "w0", step: 7, stepSeconds: 0.5));

        coordinator.Time.AdvanceSeconds(4);
        await client.HeartbeatAsync(TestCoordinator.Alive(joined[0], "w0", step: 7));

        MemberView w0 = (await client.GetStatusAsync()).Members.Single(m => m.WorkerId == "w0");
        Assert.Equal((7L, 0.0, 0.5), (w0.LastStep, w0.HeartbeatAgeSeconds, w0.LastStepSeconds));
        Assert.Equal(2.5, w0.Losses!["mlm"]);

        // One sent at step 7 that arrives after step 8's own heartbeat.
        await client.HeartbeatAsync(TestCoordinator.Beat(joined[0], "w0", step: 8, stepSeconds: 0.75));
        await client.HeartbeatAsync(TestCoordinator.Alive(joined[0], "w0", step: 7));
        w0 = (await client.GetStatusAsync()).Members.Single(m => m.WorkerId == "w0");
        Assert.Equal((8L, 0.75), (w0.LastStep, w0.LastStepSeconds));
        Assert.Equal(2.5, w0.Losses!["mlm"]);
    }

    [Fact]
    public async Task Heartbeat_NeverSentAfterJoin_StartupTimeoutApplies()
    {
        await using TestCoordinator coordinator = await TestCoordinator.StartAsync();
        IReadOnlyList<JoinResponse> joined = await coordinator.JoinAllAsync("w0", "w1");
        TestClient client = coordinator.Client();

        coordinator.Time.AdvanceSeconds(59);
        await client.HeartbeatAsync(TestCoordinator.Beat(joined[0], "w0", 1));
        Assert.Equal(1, (await client.GetStatusAsync()).Generation);
        coordinator.Time.AdvanceSeconds(2);

        OrderReply reply = await client.HeartbeatAsync(TestCoordinator.Beat(joined[0], "w0", 2));

        Assert.Equal((WorkerOrder.Rejoin, 2L), (reply.Order, reply.Generation));
    }

    [Fact]
    public async Task Heartbeat_StaleGeneration_RefusedStaleWithTheCurrentGeneration()
    {
        await using TestCoordinator coordinator = await TestCoordinator.StartAsync();
        IReadOnlyList<JoinResponse> joined = await coordinator.JoinAllAsync("w0", "w1");
        TestClient client = coordinator.Client();
        await client.ReportFailureAsync(new FailureReport("w0", 1, 0, "allreduce timed out")); // generation 2

        await client.TryJoinAsync("w0");
        await client.TryJoinAsync("w1");
        await client.ReportFailureAsync(new FailureReport("w0", 2, 0, "allreduce timed out again")); // generation 3: gen 1 is two behind
        var refused = await Assert.ThrowsAsync<CoordinatorException>(() => client.HeartbeatAsync(TestCoordinator.Beat(joined[1], "w1", 3)));

        Assert.Equal((HttpStatusCode.Conflict, ProblemTypes.StaleGeneration, 3L), (refused.Status, refused.ProblemType, refused.CurrentGeneration));
        Assert.Contains("generation 1 is stale", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Heartbeat_WrongRankForWorker_RefusedNotMember()
    {
        await using TestCoordinator coordinator = await TestCoordinator.StartAsync();
        IReadOnlyList<JoinResponse> joined = await coordinator.JoinAllAsync("w0", "w1");

        var refused = await Assert.ThrowsAsync<CoordinatorException>(
            () => coordinator.Client().HeartbeatAsync(TestCoordinator.Beat(joined[1], "w0", 1)));

        Assert.Equal((HttpStatusCode.Conflict, ProblemTypes.NotMember), (refused.Status, refused.ProblemType));
        Assert.Contains("does not hold rank 1", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Heartbeat_NegativeStepSeconds_ValidationProblemNamesField()
    {
        await using TestCoordinator coordinator = await TestCoordinator.StartAsync();
        IReadOnlyList<JoinResponse> joined = await coordinator.JoinAllAsync("w0", "w1");

        var refused = await Assert.ThrowsAsync<CoordinatorException>(
            () => coordinator.Client().HeartbeatAsync(TestCoordinator.Beat(joined[0], "w0", 1, stepSeconds: -1)));

        Assert.Equal(HttpStatusCode.BadRequest, refused.Status);
        Assert.Contains("stepSeconds", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReportFailure_CollectiveFailed_BumpsAndEveryMemberRejoins()
    {
        await using TestCoordinator coordinator = await TestCoordinator.StartAsync();
        IReadOnlyList<JoinResponse> joined = await coordinator.JoinAllAsync("w0", "w1");
        TestClient client = coordinator.Client();

        OrderReply reporter = await client.ReportFailureAsync(new FailureReport("w1", 1, 1, "gloo: connection reset by peer"));
        OrderReply other = await client.ReportFailureAsync(new FailureReport("w0", 1, 0, "gloo: connection reset by peer"));
        OrderReply beat = await client.HeartbeatAsync(TestCoordinator.Beat(joined[0], "w0", 4));

        Assert.Equal((WorkerOrder.Rejoin, 2L), (reporter.Order, reporter.Generation));
        Assert.Equal((WorkerOrder.Rejoin, 2L), (other.Order, other.Generation)); // the second report of the same failure bumps nothing
        Assert.Equal(WorkerOrder.Rejoin, beat.Order);
        Assert.Equal(1, (await client.GetStatusAsync()).Restarts);
    }

    [Fact]
    public async Task ReportFailure_Fatal_FailsJobAndOrdersStop()
    {
        await using TestCoordinator coordinator = await TestCoordinator.StartAsync();
        IReadOnlyList<JoinResponse> joined = await coordinator.JoinAllAsync("w0", "w1");
        TestClient client = coordinator.Client();

        OrderReply reply = await client.ReportFailureAsync(new FailureReport("w0", 1, 0, "checkpoint config hash mismatch", Fatal: true));
        OrderReply beat = await client.HeartbeatAsync(TestCoordinator.Beat(joined[1], "w1", 4));

        Assert.Equal((WorkerOrder.Stop, JobState.Failed), (reply.Order, reply.JobState));
        Assert.Equal((WorkerOrder.Stop, JobState.Failed), (beat.Order, beat.JobState));
        Assert.Contains("config hash mismatch", (await client.GetStatusAsync()).StateReason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StopNow_WhileRunning_HeartbeatsGetStopAndJoinsAreRefused()
    {
        await using TestCoordinator coordinator = await TestCoordinator.StartAsync();
        IReadOnlyList<JoinResponse> joined = await coordinator.JoinAllAsync("w0", "w1");
        TestClient client = coordinator.Client();

        JobStatusView stopped = await client.StopAsync(now: true);
        OrderReply beat = await client.HeartbeatAsync(TestCoordinator.Beat(joined[0], "w0", 4));

        Assert.Equal(JobState.Stopped, stopped.State);
        Assert.Equal(WorkerOrder.Stop, beat.Order);
        var refused = await Assert.ThrowsAsync<CoordinatorException>(() => client.TryJoinAsync("w9"));
        Assert.Equal(HttpStatusCode.Conflict, refused.Status);
    }

    [Fact]
    public async Task Join_AfterTheJobEnded_IsRefusedSayingHowItEnded()
    {
        await using TestCoordinator coordinator = await TestCoordinator.StartAsync();
        await coordinator.JoinAllAsync("w0", "w1");
        TestClient client = coordinator.Client();
        await client.StopAsync(now: true);

        var refused = await Assert.ThrowsAsync<CoordinatorException>(() => client.TryJoinAsync("w0"));

        // A worker tells this from a lost coordinator: it exits by how the job ended instead of asking to be restarted.
        Assert.Equal((HttpStatusCode.Conflict, ProblemTypes.JobEnded, JobState.Stopped), (refused.Status, refused.ProblemType, refused.EndedState));
        Assert.Contains("job 'job-a' is Stopped", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Join_NewcomerWhileBelowTarget_GrowsWorldInNextGeneration()
    {
        await using TestCoordinator coordinator = await TestCoordinator.StartAsync(new JobSpec("job-a", Workers: 2, MinWorkers: 1));
        await coordinator.JoinAsync("w0");
        coordinator.Time.AdvanceSeconds(31);
        JoinResponse alone = await coordinator.JoinAsync("w0");
        TestClient client = coordinator.Client();

        await client.HeartbeatAsync(TestCoordinator.Beat(alone, "w0", 50));
        JoinResponse newcomer = await client.TryJoinAsync("w1");
        // The world grows at a checkpoint that ends the generation, so that the steps since the last one are not redone.
        OrderReply growth = await client.HeartbeatAsync(TestCoordinator.Beat(alone, "w0", 51));
        long at = growth.CheckpointStep!.Value;
        await client.VoteCheckpointAsync(CheckpointFiles.Vote(alone, "w0", at, await CheckpointFiles.UploadAsync(coordinator.Store, "job-a", at, 0)));
        OrderReply beat = await client.HeartbeatAsync(TestCoordinator.Alive(alone, "w0", at));
        JoinResponse back = await client.TryJoinAsync("w0");
        JoinResponse assigned = await client.TryJoinAsync("w1");

        Assert.Equal((JoinStatus.Assigned, 1), (alone.Status, alone.WorldSize));
        Assert.Equal((JoinStatus.Waiting, 1L), (newcomer.Status, newcomer.Generation));
        Assert.Equal((WorkerOrder.Checkpoint, true), (growth.Order, growth.GenerationEndsAtCheckpoint));
        Assert.Equal(WorkerOrder.Rejoin, beat.Order);
        Assert.Equal((0, 2), (back.Rank, back.WorldSize));
        Assert.Equal((1, 2, 2L), (assigned.Rank, assigned.WorldSize, assigned.Generation));
    }
}
