using CommerceMM.Coordinator.Grains;
using System.Net;
using System.Net.Http.Json;
using CommerceMM.Coordinator.Client;
using CommerceMM.Coordinator.Contracts;
using CommerceMM.Coordinator.Tests.Support;
using CommerceMM.Storage.Checkpoints;

namespace CommerceMM.Coordinator.Tests.Api;

/// <summary>
/// A relaunch is a new generation: workers of a new launch are new processes (a new incarnation in their join), so
/// whatever the killed launch left behind (votes, leases, orders) is fenced off by the generation number, which is
/// persisted with the job and only ever grows.
/// </summary>
public sealed class RelaunchTests
{
    [Fact]
    public async Task Relaunch_AfterKill_IsANewGenerationAndTheKilledLaunchsVotesDoNotCount()
    {
        await using TestCoordinator coordinator = await TestCoordinator.StartAsync();
        TestClient killed = coordinator.Client(incarnation: "launch-1");
        IReadOnlyList<JoinResponse> before = await JoinBothAsync(killed);
        await killed.OrderCheckpointAsync(new CheckpointOrderRequest(1, AtStep: 20));
        CheckpointVote leftOver = CheckpointFiles.Vote(before[1], "w1", 20, await CheckpointFiles.UploadAsync(coordinator.Store, "job-a", 20, 1));
        await killed.VoteCheckpointAsync(leftOver); // the killed launch's w1 voted; then everything was killed

        await coordinator.RestartAsync();
        TestClient relaunched = coordinator.Client(incarnation: "launch-2");
        IReadOnlyList<JoinResponse> after = await JoinBothAsync(relaunched);
        var stale = await Assert.ThrowsAsync<CoordinatorException>(() => relaunched.VoteCheckpointAsync(leftOver));
        CheckpointOrderView order = await relaunched.OrderCheckpointAsync(new CheckpointOrderRequest(after[0].Generation, AtStep: 20));
        CheckpointVoteReply first = await relaunched.VoteCheckpointAsync(
            CheckpointFiles.Vote(after[0], "w0", 20, await CheckpointFiles.UploadAsync(coordinator.Store, "job-a", 20, 0)));
        CheckpointVoteReply second = await relaunched.VoteCheckpointAsync(
            CheckpointFiles.Vote(after[1], "w1", 20, await CheckpointFiles.UploadAsync(coordinator.Store, "job-a", 20, 1)));

        Assert.Equal((1L, 1L), (before[0].Generation, before[1].Generation));
        Assert.Equal((2L, 2L), (after[0].Generation, after[1].Generation));
        Assert.Equal((HttpStatusCode.Conflict, ProblemTypes.StaleGeneration, 2L), (stale.Status, stale.ProblemType, stale.CurrentGeneration));
        Assert.Empty(order.VotedRanks); // the killed launch's vote for step 20 is gone with its generation
        Assert.Equal(CheckpointVoteStatus.Pending, first.Status); // ...so w0's vote alone does not commit
        Assert.Equal(CheckpointVoteStatus.Committed, second.Status);
        Assert.Equal(2, (await CheckpointCatalog.ReadManifestAsync(coordinator.Store, "job-a", 20))!.Generation);
        ShardLedgerView shards = await relaunched.GetShardsAsync();
        Assert.Equal(2, shards.Generation); // the leases were handed out again, in the new generation
        JobStatusView status = await relaunched.GetStatusAsync();
        Assert.Contains("came back as a new process", status.StateReason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Relaunch_AfterARollback_FollowsLatestBack_AndTheLedgerRecordsTheStepsCommittedAgain()
    {
        await using TestCoordinator coordinator = await TestCoordinator.StartAsync();
        IReadOnlyList<JoinResponse> before = await JoinBothAsync(coordinator.Client(incarnation: "launch-1"));
        await CheckpointFiles.CommitAsync(coordinator, before, 10);
        await CheckpointFiles.CommitAsync(coordinator, before, 20);

        // `cmm checkpoints rollback` while no coordinator runs (the host below stays idle), then the relaunch.
        await CheckpointRollback.RunAsync(coordinator.Store, await CheckpointRollback.PlanAsync(coordinator.Store, "job-a", 10), "test", skipSteps: 0, TimeProvider.System);
        await coordinator.RestartAsync();
        TestClient relaunched = coordinator.Client(incarnation: "launch-2");
        IReadOnlyList<JoinResponse> after = await JoinBothAsync(relaunched);
        JobStatusView resumed = await relaunched.GetStatusAsync();
        ShardLedgerView forgotten = await relaunched.GetShardsAsync();
        await relaunched.OrderCheckpointAsync(new CheckpointOrderRequest(after[0].Generation, AtStep: 20));
        await CheckpointFiles.CommitAsync(coordinator, after, 20, order: false);
        ShardLedgerView recorded = await relaunched.GetShardsAsync();

        Assert.Equal(10, resumed.LastCommittedCheckpoint!.Step);
        Assert.Null(forgotten.LastCommitted);
        Assert.Equal((20L, after[0].Generation), (recorded.LastCommitted!.Step, recorded.LastCommitted.Generation));
    }

    [Fact]
    public async Task RelaunchTwice_GenerationsKeepGrowingAcrossLaunches()
    {
        await using TestCoordinator coordinator = await TestCoordinator.StartAsync();
        var generations = new List<long>();
        foreach (string launch in new[] { "launch-1", "launch-2", "launch-3" })
        {
            generations.Add((await JoinBothAsync(coordinator.Client(incarnation: launch)))[0].Generation);
            await coordinator.RestartAsync();
        }

        Assert.Equal([1L, 2L, 3L], generations);
        Assert.Equal(3, (await coordinator.Client().GetStatusAsync()).Generation); // persisted: the restarted host still says 3
    }

    [Theory]
    [InlineData(false)] // killed: the job was still Running when it was relaunched
    [InlineData(true)] // stopped: it had ended
    public async Task Relaunch_WithMoreWorkers_ItsFirstGenerationHasThemAll_NotTheOldSize(bool stoppedFirst)
    {
        await using TestCoordinator coordinator = await TestCoordinator.StartAsync();
        await JoinBothAsync(coordinator.Client(incarnation: "launch-1"));
        if (stoppedFirst)
        {
            await coordinator.Client().StopAsync(now: true);
        }

        await coordinator.RestartAsync(coordinator.Spec with { Workers = 3 });
        TestClient relaunched = coordinator.Client(incarnation: "launch-2");
        string[] workers = ["w0", "w1", "w2"];
        foreach (string id in workers)
        {
            await relaunched.TryJoinAsync(id);
        }

        var after = new List<JoinResponse>();
        foreach (string id in workers)
        {
            after.Add(await relaunched.TryJoinAsync(id));
        }

        // The old size (2) would start without w2, which then waits for a checkpoint to grow the job.
        Assert.All(after, a => Assert.Equal((JoinStatus.Assigned, 2L, 3), (a.Status, a.Generation, a.WorldSize)));
        Assert.Equal([0, 1, 2], after.Select(a => a.Rank));
    }

    [Fact]
    public async Task RestartOfOneMember_WhileTheJobRunsBelowItsSize_WaitsOnlyForTheMembers()
    {
        // Three workers asked for, two came: the rendezvous deadline started the job with them, and they train.
        await using TestCoordinator coordinator = await TestCoordinator.StartAsync(new JobSpec("job-a", Workers: 3));
        TestClient client = coordinator.Client(incarnation: "launch-1");
        for (int polls = 0; polls < 4; polls++) // polling within the 10 s floor, past the 30 s rendezvous deadline
        {
            await JoinBothAsync(client);
            coordinator.Time.AdvanceSeconds(8);
        }

        IReadOnlyList<JoinResponse> running = await JoinBothAsync(client);
        await client.HeartbeatAsync(TestCoordinator.Beat(running[0], "w0", 5));

        TestClient restarted = coordinator.Client(incarnation: "w1-again");
        await restarted.TryJoinAsync("w1");
        JoinResponse survivor = await client.TryJoinAsync("w0");
        JoinResponse back = await restarted.TryJoinAsync("w1");

        Assert.Equal((JoinStatus.Assigned, 1L, 2), (running[1].Status, running[1].Generation, running[1].WorldSize));
        Assert.Equal((JoinStatus.Assigned, 2L, 2), (survivor.Status, survivor.Generation, survivor.WorldSize)); // no wait for a third
        Assert.Equal((JoinStatus.Assigned, 2L, 1), (back.Status, back.Generation, back.Rank));
    }

    [Fact]
    public async Task Join_SameProcessAgain_IsARetryNotARestart()
    {
        await using TestCoordinator coordinator = await TestCoordinator.StartAsync();
        TestClient client = coordinator.Client(incarnation: "launch-1");
        await JoinBothAsync(client);

        await coordinator.RestartAsync(); // a coordinator restart alone: its workers ride it out
        JoinResponse again = await coordinator.Client(incarnation: "launch-1").TryJoinAsync("w1");

        Assert.Equal((JoinStatus.Assigned, 1L, 1), (again.Status, again.Generation, again.Rank));
    }

    [Fact]
    public async Task Relaunch_WhileGathering_TheNewProcessTakesTheOldOnesPlace()
    {
        // A gathering generation handed nothing out (no ranks): it can be completed by the relaunched processes.
        await using TestCoordinator coordinator = await TestCoordinator.StartAsync();
        await coordinator.Client(incarnation: "launch-1").TryJoinAsync("w0");

        await coordinator.RestartAsync();
        IReadOnlyList<JoinResponse> joined = await JoinBothAsync(coordinator.Client(incarnation: "launch-2"));
        JoinResponse retried = await coordinator.Client(incarnation: "launch-2").TryJoinAsync("w0");

        Assert.Equal((1L, 0), (joined[0].Generation, joined[0].Rank));
        Assert.Equal((JoinStatus.Assigned, 1L), (retried.Status, retried.Generation)); // w0's recorded process is launch-2's
    }

    [Fact]
    public async Task Join_BadIncarnation_ValidationProblemNamesTheField()
    {
        await using TestCoordinator coordinator = await TestCoordinator.StartAsync();
        IWorkerGatewayGrain gateway = coordinator.Host.Grains(coordinator.Spec.Name).Workers;

        GrainResult<JoinResponse> refused = await gateway.JoinAsync(TestCoordinator.Token, new JoinRequest("w0", "not a/valid id"));

        Assert.Equal(GrainStatus.Invalid, refused.Status);
        Assert.Contains("incarnation", refused.Field, StringComparison.Ordinal);
        Assert.True((await coordinator.Client().GetStatusAsync()).RendezvousOpen); // nobody joined
    }

    private static async Task<IReadOnlyList<JoinResponse>> JoinBothAsync(TestClient client)
    {
        await client.TryJoinAsync("w0");
        await client.TryJoinAsync("w1");
        return [await client.TryJoinAsync("w0"), await client.TryJoinAsync("w1")];
    }
}
