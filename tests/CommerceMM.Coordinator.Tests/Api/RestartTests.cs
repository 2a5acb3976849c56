using CommerceMM.Coordinator.Client;
using CommerceMM.Coordinator.Contracts;
using CommerceMM.Coordinator.Tests.Support;
using CommerceMM.Storage.Checkpoints;

namespace CommerceMM.Coordinator.Tests.Api;

public sealed class RestartTests
{
    [Fact]
    public async Task Restart_AfterBumpAndCommit_ResumesGenerationRanksAndCheckpoint()
    {
        await using TestCoordinator coordinator = await TestCoordinator.StartAsync(new JobSpec("job-a", Workers: 3, MinWorkers: 1));
        await coordinator.JoinAllAsync("w0", "w1", "w2");
        TestClient before = coordinator.Client();
        await before.ReportFailureAsync(new FailureReport("w2", 1, 2, "peer lost"));
        coordinator.Time.AdvanceSeconds(1);
        await before.TryJoinAsync("w2");
        await before.TryJoinAsync("w0");
        for (int second = 5; second <= 30; second += 5) // w1 never comes back, while w0 and w2 keep polling
        {
            coordinator.Time.AdvanceSeconds(5);
            await before.TryJoinAsync("w0");
            await before.TryJoinAsync("w2");
        }

        coordinator.Time.AdvanceSeconds(1); // the rendezvous deadline completes generation 2 with two
        JoinResponse w0 = await before.TryJoinAsync("w0");
        JoinResponse w2 = await before.TryJoinAsync("w2");
        await before.OrderCheckpointAsync(new CheckpointOrderRequest(2, AtStep: 30));
        await before.VoteCheckpointAsync(CheckpointFiles.Vote(w0, "w0", 30, await CheckpointFiles.UploadAsync(coordinator.Store, "job-a", 30, w0.Rank)));
        await before.VoteCheckpointAsync(CheckpointFiles.Vote(w2, "w2", 30, await CheckpointFiles.UploadAsync(coordinator.Store, "job-a", 30, w2.Rank)));

        await coordinator.RestartAsync();
        TestClient after = coordinator.Client();
        JobStatusView status = await after.GetStatusAsync();
        JoinResponse again = await after.TryJoinAsync("w2");
        OrderReply beat = await after.HeartbeatAsync(TestCoordinator.Beat(w0, "w0", 31));

        Assert.Equal((JobState.Running, 2L, 1, 2), (status.State, status.Generation, status.Restarts, status.WorldSize));
        Assert.Equal([("w0", 0), ("w2", 1)], status.Members.Select(m => (m.WorkerId, m.Rank!.Value)));
        Assert.All(status.Members, m => Assert.Equal(MemberState.Starting, m.State)); // liveness is rebuilt from new heartbeats
        Assert.Equal((30L, 2L), (status.LastCommittedCheckpoint!.Step, status.LastCommittedCheckpoint.Generation));
        Assert.Equal((JoinStatus.Assigned, 2L, 1, 30L), (again.Status, again.Generation, again.Rank, again.LastCommittedStep));
        Assert.Equal((WorkerOrder.None, 2L), (beat.Order, beat.Generation));
        Assert.Equal(30, (await after.GetShardsAsync()).LastCommitted!.Step);
    }

    [Fact]
    public async Task Restart_CoordinatorKilledAfterTheManifestButBeforeItsState_TreatsTheOrderAsCommitted()
    {
        await using TestCoordinator coordinator = await TestCoordinator.StartAsync();
        IReadOnlyList<JoinResponse> joined = await coordinator.JoinAllAsync("w0", "w1");
        TestClient client = coordinator.Client();
        await client.OrderCheckpointAsync(new CheckpointOrderRequest(1, AtStep: 20));
        var rank1 = await CheckpointFiles.UploadAsync(coordinator.Store, "job-a", 20, 1);
        await client.VoteCheckpointAsync(CheckpointFiles.Vote(joined[1], "w1", 20, rank1));
        // The last vote's commit reached storage, then the coordinator died before saving its own state.
        var rank0 = await CheckpointFiles.UploadAsync(coordinator.Store, "job-a", 20, 0);
        var files = rank0.Select(f => (f, 0)).Concat(rank1.Select(f => (f, 1)))
            .Select(x => new CheckpointFileEntry(x.f.Path, x.f.Size, x.f.Sha256, x.Item2));
        await CheckpointCommitter.CommitAsync(coordinator.Store, CheckpointManifest.Create("job-a", 20, 1, 2, "hash", "test", files, TimeProvider.System));

        await coordinator.RestartAsync();

        CheckpointStatusView checkpoints = await coordinator.Client().GetCheckpointsAsync();
        Assert.Null(checkpoints.Pending);
        Assert.Equal(20, checkpoints.LastCommitted!.Step);
        // A later order is accepted instead of refused because of the stale votes.
        var next = await coordinator.Client().OrderCheckpointAsync(new CheckpointOrderRequest(1, AtStep: 30));
        Assert.Equal(30, next.Step);
    }

    [Fact]
    public async Task Restart_WorkerSilentPastStartupTimeout_IsEvicted()
    {
        await using TestCoordinator coordinator = await TestCoordinator.StartAsync();
        IReadOnlyList<JoinResponse> joined = await coordinator.JoinAllAsync("w0", "w1");
        TestClient client = coordinator.Client();
        await client.HeartbeatAsync(TestCoordinator.Beat(joined[0], "w0", 3));
        await client.HeartbeatAsync(TestCoordinator.Beat(joined[1], "w1", 3));

        await coordinator.RestartAsync();
        coordinator.Time.AdvanceSeconds(59);
        OrderReply w0 = await coordinator.Client().HeartbeatAsync(TestCoordinator.Beat(joined[0], "w0", 4));
        coordinator.Time.AdvanceSeconds(2);
        JobStatusView status = await coordinator.Client().GetStatusAsync();

        Assert.Equal(WorkerOrder.None, w0.Order); // after a restart everyone first gets the startup timeout, not the step-derived one
        Assert.Equal(2, status.Generation);
        Assert.Contains("worker 'w1') missed its heartbeat", status.StateReason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Restart_MembershipStateCorrupt_FailsNamingTheBlobAndLeavesIt()
    {
        await using TestCoordinator coordinator = await TestCoordinator.StartAsync();
        await coordinator.JoinAllAsync("w0", "w1");
        string path = Path.Combine(coordinator.Root, "job-a", "coordinator", "membership.json");
        await File.WriteAllTextAsync(path, "{\"generation\":");

        var failed = await Assert.ThrowsAsync<InvalidDataException>(coordinator.RestartAsync);

        Assert.Contains("'job-a/coordinator/membership.json'", failed.Message, StringComparison.Ordinal);
        Assert.Equal("{\"generation\":", await File.ReadAllTextAsync(path)); // never silently reset
    }
}
