using System.Net;
using CommerceMM.Coordinator.Client;
using CommerceMM.Coordinator.Contracts;
using CommerceMM.Coordinator.Tests.Support;
using CommerceMM.Storage.Blobs;
using CommerceMM.Storage.Checkpoints;

namespace CommerceMM.Coordinator.Tests.Api;

public sealed class CheckpointTests
{
    [Fact]
    public async Task Heartbeat_PeriodicCheckpointsOn_OrdersEveryRankUntilItVotes()
    {
        await using TestCoordinator coordinator = await TestCoordinator.StartAsync(new JobSpec("job-a", Workers: 2, CheckpointEverySteps: 50));
        IReadOnlyList<JoinResponse> joined = await coordinator.JoinAllAsync("w0", "w1");
        TestClient client = coordinator.Client();

        OrderReply w0 = await client.HeartbeatAsync(TestCoordinator.Beat(joined[0], "w0", 10));
        OrderReply w1 = await client.HeartbeatAsync(TestCoordinator.Beat(joined[1], "w1", 10));
        await client.VoteCheckpointAsync(CheckpointFiles.Vote(joined[0], "w0", 50, await CheckpointFiles.UploadAsync(coordinator.Store, "job-a", 50, 0)));
        OrderReply voted = await client.HeartbeatAsync(TestCoordinator.Beat(joined[0], "w0", 51));
        OrderReply notVoted = await client.HeartbeatAsync(TestCoordinator.Beat(joined[1], "w1", 51));

        Assert.Equal((WorkerOrder.Checkpoint, 50L, 1L), (w0.Order, w0.CheckpointStep, w0.Generation));
        Assert.Equal((WorkerOrder.Checkpoint, 50L), (w1.Order, w1.CheckpointStep));
        Assert.Equal(WorkerOrder.None, voted.Order);
        Assert.Equal((WorkerOrder.Checkpoint, 50L), (notVoted.Order, notVoted.CheckpointStep));
    }

    [Fact]
    public async Task Vote_AllRanksVoted_CommitsThroughStorageAndRecordsPositions()
    {
        await using TestCoordinator coordinator = await TestCoordinator.StartAsync();
        IReadOnlyList<JoinResponse> joined = await coordinator.JoinAllAsync("w0", "w1");
        TestClient client = coordinator.Client();
        CheckpointOrderView order = await client.OrderCheckpointAsync(new CheckpointOrderRequest(1, AtStep: 20, Reason: "operator"));

        CheckpointVoteReply first = await client.VoteCheckpointAsync(CheckpointFiles.Vote(joined[1], "w1", 20, await CheckpointFiles.UploadAsync(coordinator.Store, "job-a", 20, 1)));
        CheckpointVoteReply last = await client.VoteCheckpointAsync(CheckpointFiles.Vote(joined[0], "w0", 20, await CheckpointFiles.UploadAsync(coordinator.Store, "job-a", 20, 0)));

        Assert.Equal((20L, 2), (order.Step, order.WorldSize));
        Assert.Equal(CheckpointVoteStatus.Pending, first.Status);
        Assert.Equal(CheckpointVoteStatus.Committed, last.Status);
        var latest = await CheckpointCommitter.ReadLatestAsync(coordinator.Store, "job-a");
        Assert.Equal((20L, 1L), (latest!.Value.Pointer.Step, latest.Value.Pointer.Generation));
        CheckpointManifest? manifest = await CheckpointCatalog.ReadManifestAsync(coordinator.Store, "job-a", 20);
        Assert.Equal(4, manifest!.Files.Count);
        Assert.Equal([0, 0, 1, 1], manifest.Files.Select(f => f.Rank));
        JobStatusView status = await client.GetStatusAsync();
        Assert.Equal(20, status.LastCommittedCheckpoint!.Step);
        Assert.Null(status.PendingCheckpoint);
        ShardLedgerView shards = await client.GetShardsAsync();
        Assert.Equal(20, shards.LastCommitted!.Step);
        Assert.Equal(201, shards.LastCommitted.Positions[1].Position!.Value.GetProperty("offset").GetInt64());
        Assert.Equal(20, (await client.HeartbeatAsync(TestCoordinator.Beat(joined[0], "w0", 21))).LastCommittedStep);
    }

    [Fact]
    public async Task Commit_BeyondKeepLast_RetentionDeletesTheOlderCheckpointInTheBackground()
    {
        await using TestCoordinator coordinator = await TestCoordinator.StartAsync(new JobSpec("job-a", Workers: 2, KeepLast: 1));
        IReadOnlyList<JoinResponse> joined = await coordinator.JoinAllAsync("w0", "w1");
        TestClient client = coordinator.Client();
        foreach (long step in new long[] { 10, 20 })
        {
            await client.OrderCheckpointAsync(new CheckpointOrderRequest(1, AtStep: step));
            await client.VoteCheckpointAsync(CheckpointFiles.Vote(joined[1], "w1", step, await CheckpointFiles.UploadAsync(coordinator.Store, "job-a", step, 1)));
            await client.VoteCheckpointAsync(CheckpointFiles.Vote(joined[0], "w0", step, await CheckpointFiles.UploadAsync(coordinator.Store, "job-a", step, 0)));
        }

        // Retention runs off the entity's turn: poll the store, with a deadline, for step 10 to go.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        IReadOnlyList<CheckpointFolder> folders;
        do
        {
            folders = await CheckpointCatalog.ListAsync(coordinator.Store, "job-a");
            if (folders.All(f => f.Step != 10)) break;
            await Task.Delay(50);
        }
        while (DateTime.UtcNow < deadline);
        Assert.Equal([20L], folders.Select(f => f.Step));
        Assert.Equal(20, (await CheckpointCommitter.ReadLatestAsync(coordinator.Store, "job-a"))!.Value.Pointer.Step);
    }

    [Fact]
    public async Task RestoreReport_NewerCheckpointCorrupt_SetsItAside_SoAPreemptionAfterTheRestoredStepCommits()
    {
        await using TestCoordinator coordinator = await TestCoordinator.StartAsync(new JobSpec("job-a", Workers: 2, KeepLast: 5));
        (IReadOnlyList<JoinResponse> joined, TestClient client) = await CommitTenAndTwentyAsync(coordinator);
        await FlipByteAsync(coordinator, CheckpointLayout.FileKey("job-a", 20, "rank-0001/part-0.bin"));
        var preemption = new CheckpointOrderRequest(1, AtStep: 15, Reason: "preempted (SIGTERM)", Leaving: "w0");
        var before = await Assert.ThrowsAsync<CoordinatorException>(() => client.OrderCheckpointAsync(preemption));
        Assert.Contains("step 15 is not after the last committed checkpoint (step 20)", before.Message, StringComparison.Ordinal);

        CheckpointStatusView after = await client.ReportRestoreAsync(new RestoreReport("w0", 1, joined[0].Rank, RestoredStep: 10));

        Assert.Equal((10L, 2), (after.LastCommitted!.Step, after.LastCommitted.WorldSize));
        Assert.Contains("step 20: it failed verification: file 'rank-0001/part-0.bin': SHA-256 expected", after.LastFailure, StringComparison.Ordinal);
        Assert.Equal(10, (await CheckpointCommitter.ReadLatestAsync(coordinator.Store, "job-a"))!.Value.Pointer.Step);
        Assert.Null(await CheckpointCatalog.ReadManifestAsync(coordinator.Store, "job-a", 20));
        Assert.Null((await client.GetShardsAsync()).LastCommitted);
        Assert.Equal(after.LastFailure, (await client.GetStatusAsync()).LastCheckpointFailure);
        Assert.Equal(10, (await client.ReportRestoreAsync(new RestoreReport("w0", 1, joined[0].Rank, RestoredStep: 10))).LastCommitted!.Step); // a retry: nothing to do
        await client.OrderCheckpointAsync(preemption);
        await client.OrderCheckpointAsync(preemption with { Leaving = "w1" });
        await CheckpointFiles.CommitAsync(coordinator, joined, 15, order: false);
        Assert.Equal(15, (await CheckpointCommitter.ReadLatestAsync(coordinator.Store, "job-a"))!.Value.Pointer.Step);
        Assert.Equal(JobState.Stopped, (await client.GetStatusAsync()).State);
    }

    [Fact]
    public async Task RestoreReport_NewerCheckpointVerifiesHere_IsAConflictAndChangesNothing()
    {
        await using TestCoordinator coordinator = await TestCoordinator.StartAsync(new JobSpec("job-a", Workers: 2, KeepLast: 5));
        (IReadOnlyList<JoinResponse> joined, TestClient client) = await CommitTenAndTwentyAsync(coordinator);

        var refused = await Assert.ThrowsAsync<CoordinatorException>(() => client.ReportRestoreAsync(new RestoreReport("w0", 1, joined[0].Rank, RestoredStep: 10)));

        Assert.Equal(HttpStatusCode.Conflict, refused.Status);
        Assert.Contains("step 20 verifies on the coordinator, yet the workers restored step 10", refused.Message, StringComparison.Ordinal);
        Assert.Equal(20, (await client.GetCheckpointsAsync()).LastCommitted!.Step);
        Assert.Equal(20, (await CheckpointCommitter.ReadLatestAsync(coordinator.Store, "job-a"))!.Value.Pointer.Step);
    }

    [Fact]
    public async Task Vote_FileMissingFromStore_FailsCommitAndLeavesLatestAlone()
    {
        await using TestCoordinator coordinator = await TestCoordinator.StartAsync();
        IReadOnlyList<JoinResponse> joined = await coordinator.JoinAllAsync("w0", "w1");
        TestClient client = coordinator.Client();
        await client.OrderCheckpointAsync(new CheckpointOrderRequest(1, AtStep: 20));
        IReadOnlyList<CheckpointFile> files = await CheckpointFiles.UploadAsync(coordinator.Store, "job-a", 20, 1);
        await coordinator.Store.DeleteAsync(CheckpointLayout.FileKey("job-a", 20, files[0].Path));

        await client.VoteCheckpointAsync(CheckpointFiles.Vote(joined[1], "w1", 20, files));
        CheckpointVoteReply last = await client.VoteCheckpointAsync(CheckpointFiles.Vote(joined[0], "w0", 20, await CheckpointFiles.UploadAsync(coordinator.Store, "job-a", 20, 0)));

        Assert.Equal(CheckpointVoteStatus.Failed, last.Status);
        Assert.Contains(files[0].Path, last.Message, StringComparison.Ordinal);
        Assert.Null(await CheckpointCommitter.ReadLatestAsync(coordinator.Store, "job-a"));
        CheckpointStatusView checkpoints = await client.GetCheckpointsAsync();
        Assert.Null(checkpoints.LastCommitted);
        Assert.Contains("not committed", checkpoints.LastFailure, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Vote_RanksDisagreeOnConfigHash_Fails()
    {
        await using TestCoordinator coordinator = await TestCoordinator.StartAsync();
        IReadOnlyList<JoinResponse> joined = await coordinator.JoinAllAsync("w0", "w1");
        TestClient client = coordinator.Client();
        await client.OrderCheckpointAsync(new CheckpointOrderRequest(1, AtStep: 5));

        await client.VoteCheckpointAsync(CheckpointFiles.Vote(joined[0], "w0", 5, await CheckpointFiles.UploadAsync(coordinator.Store, "job-a", 5, 0), "cfg-A"));
        CheckpointVoteReply last = await client.VoteCheckpointAsync(CheckpointFiles.Vote(joined[1], "w1", 5, await CheckpointFiles.UploadAsync(coordinator.Store, "job-a", 5, 1), "cfg-B"));

        Assert.Equal(CheckpointVoteStatus.Failed, last.Status);
        Assert.Contains("config hash", last.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Vote_ARankCouldNotSave_FailsTheOrderAtOnce_SoTheNextOneGoesOut()
    {
        await using TestCoordinator coordinator = await TestCoordinator.StartAsync();
        IReadOnlyList<JoinResponse> joined = await coordinator.JoinAllAsync("w0", "w1");
        TestClient client = coordinator.Client();
        await client.OrderCheckpointAsync(new CheckpointOrderRequest(1, AtStep: 40));
        await client.VoteCheckpointAsync(CheckpointFiles.Vote(joined[1], "w1", 40, await CheckpointFiles.UploadAsync(coordinator.Store, "job-a", 40, 1)));

        CheckpointVoteReply failed = await client.VoteCheckpointAsync(
            CheckpointFiles.Vote(joined[0], "w0", 40, []) with { Failure = "No space left on device : '/runs/.cmm-store/tmp/x'" });
        CheckpointOrderView final = await client.OrderCheckpointAsync(new CheckpointOrderRequest(1, AtStep: 80, Reason: "final"));

        Assert.Equal(CheckpointVoteStatus.Failed, failed.Status);
        Assert.Equal("checkpoint at step 40 was not committed: rank 0 could not save its part: No space left on device : '/runs/.cmm-store/tmp/x'", failed.Message);
        Assert.Equal(80L, final.Step); // before, the half-voted order refused it until the checkpoint timeout
        CheckpointStatusView checkpoints = await client.GetCheckpointsAsync();
        Assert.Null(checkpoints.LastCommitted);
        Assert.Equal(failed.Message, checkpoints.LastFailure);
        Assert.Null(await CheckpointCommitter.ReadLatestAsync(coordinator.Store, "job-a"));
    }

    [Fact]
    public async Task NextOrder_AfterAFailedSave_DeletesThePartsItLeft_NotACommittedCheckpointNorPartsItDidNotSeeFail()
    {
        // On a full disk the part rank 1 saved for step 40 would take the room step 60 needs, and so on at every step:
        // retention only reaches folders below a newer commit, and there is none while saves keep failing.
        await using TestCoordinator coordinator = await TestCoordinator.StartAsync();
        IReadOnlyList<JoinResponse> joined = await coordinator.JoinAllAsync("w0", "w1");
        TestClient client = coordinator.Client();
        await CheckpointFiles.CommitAsync(coordinator, joined, 20);
        // Parts this coordinator never ordered: they could be another activation's save under way, so they stay.
        await CheckpointFiles.UploadAsync(coordinator.Store, "job-a", 30, 0);
        await client.OrderCheckpointAsync(new CheckpointOrderRequest(1, AtStep: 40));
        await client.VoteCheckpointAsync(CheckpointFiles.Vote(joined[1], "w1", 40, await CheckpointFiles.UploadAsync(coordinator.Store, "job-a", 40, 1)));
        await client.VoteCheckpointAsync(CheckpointFiles.Vote(joined[0], "w0", 40, []) with { Failure = "No space left on device" });
        var failedParts = (await CheckpointCatalog.ListAsync(coordinator.Store, "job-a")).Select(f => f.Step).ToList();

        await client.OrderCheckpointAsync(new CheckpointOrderRequest(1, AtStep: 60));
        var left = await CheckpointCatalog.ListAsync(coordinator.Store, "job-a");

        Assert.Equal([20L, 30L, 40L], failedParts);
        Assert.Equal([(20L, true), (30L, false)], left.Select(f => (f.Step, f.HasManifest)));
    }

    [Fact]
    public async Task Vote_FailureWithFiles_IsAValidationProblem()
    {
        await using TestCoordinator coordinator = await TestCoordinator.StartAsync();
        IReadOnlyList<JoinResponse> joined = await coordinator.JoinAllAsync("w0", "w1");
        TestClient client = coordinator.Client();
        await client.OrderCheckpointAsync(new CheckpointOrderRequest(1, AtStep: 5));

        var refused = await Assert.ThrowsAsync<CoordinatorException>(() => client.VoteCheckpointAsync(
            CheckpointFiles.Vote(joined[0], "w0", 5, [new CheckpointFile("rank-00000/state.json", 1, new string('a', 64))]) with { Failure = "disk full" }));
        Assert.Equal(HttpStatusCode.BadRequest, refused.Status);
        Assert.Contains("files: must be empty in a vote that reports a failure", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Vote_StaleGeneration_Refused409AndOrderDropped()
    {
        await using TestCoordinator coordinator = await TestCoordinator.StartAsync();
        IReadOnlyList<JoinResponse> joined = await coordinator.JoinAllAsync("w0", "w1");
        TestClient client = coordinator.Client();
        await client.OrderCheckpointAsync(new CheckpointOrderRequest(1, AtStep: 20));
        await client.ReportFailureAsync(new FailureReport("w1", 1, 1, "peer lost"));

        var refused = await Assert.ThrowsAsync<CoordinatorException>(async () =>
            await client.VoteCheckpointAsync(CheckpointFiles.Vote(joined[0], "w0", 20, await CheckpointFiles.UploadAsync(coordinator.Store, "job-a", 20, 0))));

        Assert.Equal((HttpStatusCode.Conflict, ProblemTypes.StaleGeneration, 2L), (refused.Status, refused.ProblemType, refused.CurrentGeneration));
        await client.TryJoinAsync("w0");
        JoinResponse rejoined = await client.TryJoinAsync("w1");
        await client.HeartbeatAsync(new HeartbeatRequest("w1", 2, rejoined.Rank, 21));
        CheckpointStatusView checkpoints = await client.GetCheckpointsAsync();
        Assert.Null(checkpoints.Pending);
        Assert.Contains("abandoned", checkpoints.LastFailure, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OrderCheckpoint_WithoutStep_PlacesItAheadOfTheFurthestRank()
    {
        await using TestCoordinator coordinator = await TestCoordinator.StartAsync();
        IReadOnlyList<JoinResponse> joined = await coordinator.JoinAllAsync("w0", "w1");
        TestClient client = coordinator.Client();
        await client.HeartbeatAsync(TestCoordinator.Beat(joined[0], "w0", 40, stepSeconds: 0.5));
        await client.HeartbeatAsync(TestCoordinator.Beat(joined[1], "w1", 41, stepSeconds: 0.5));

        CheckpointOrderView order = await client.OrderCheckpointAsync(new CheckpointOrderRequest(1, Reason: "sigterm"));

        Assert.Equal(41 + 5, order.Step); // lead: ceil(2 s interval / 0.5 s step) + 1
        Assert.Equal("sigterm", order.Reason);
    }

    [Fact]
    public async Task OrderCheckpoint_TheOnlyWorkerLeaving_StopsJobOnceCommitted()
    {
        await using TestCoordinator coordinator = await TestCoordinator.StartAsync(new JobSpec("job-a", Workers: 1));
        IReadOnlyList<JoinResponse> joined = await coordinator.JoinAllAsync("w0");
        TestClient client = coordinator.Client();
        await client.OrderCheckpointAsync(new CheckpointOrderRequest(1, AtStep: 9, Reason: "preempted", Leaving: "w0"));

        OrderReply ordered = await client.HeartbeatAsync(TestCoordinator.Beat(joined[0], "w0", 8));
        CheckpointVoteReply vote = await client.VoteCheckpointAsync(CheckpointFiles.Vote(joined[0], "w0", 9, await CheckpointFiles.UploadAsync(coordinator.Store, "job-a", 9, 0)));
        OrderReply after = await client.HeartbeatAsync(TestCoordinator.Beat(joined[0], "w0", 9));

        Assert.Equal((WorkerOrder.Checkpoint, 9L), (ordered.Order, ordered.CheckpointStep));
        Assert.Equal(CheckpointVoteStatus.Committed, vote.Status);
        Assert.Equal((WorkerOrder.Stop, JobState.Stopped, 9L), (after.Order, after.JobState, after.LastCommittedStep));
    }

    [Fact]
    public async Task Vote_BadSha256_ValidationProblemNamesFileField()
    {
        await using TestCoordinator coordinator = await TestCoordinator.StartAsync();
        IReadOnlyList<JoinResponse> joined = await coordinator.JoinAllAsync("w0", "w1");

        var refused = await Assert.ThrowsAsync<CoordinatorException>(() => coordinator.Client().VoteCheckpointAsync(
            CheckpointFiles.Vote(joined[0], "w0", 5, [new CheckpointFile("a.bin", 3, "abc")])));

        Assert.Equal(HttpStatusCode.BadRequest, refused.Status);
        Assert.Contains("files[0].sha256", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Heartbeat_OrderReachedButVotesMissingPastTimeout_AbandonsItAndOrdersTheNext()
    {
        await using TestCoordinator coordinator = await TestCoordinator.StartAsync(
            new JobSpec("job-a", Workers: 2, CheckpointEverySteps: 10), options => options.Liveness.CheckpointTimeout = TimeSpan.FromSeconds(60));
        IReadOnlyList<JoinResponse> joined = await coordinator.JoinAllAsync("w0", "w1");
        TestClient client = coordinator.Client();
        async Task<OrderReply> TickAsync(int seconds, long step)
        {
            OrderReply last = null!;
            for (int elapsed = 0; elapsed < seconds; elapsed += 5)
            {
                coordinator.Time.AdvanceSeconds(5); // both ranks stay alive (timeout 10 s); only the clock moves
                await client.HeartbeatAsync(TestCoordinator.Beat(joined[1], "w1", step));
                last = await client.HeartbeatAsync(TestCoordinator.Beat(joined[0], "w0", step));
            }

            return last;
        }

        await TickAsync(100, step: 1); // an early periodic order does not expire before its step is reached
        await TickAsync(5, step: 10);
        await client.VoteCheckpointAsync(CheckpointFiles.Vote(joined[0], "w0", 10, await CheckpointFiles.UploadAsync(coordinator.Store, "job-a", 10, 0)));
        OrderReply stillWaiting = await client.HeartbeatAsync(TestCoordinator.Beat(joined[1], "w1", 12));
        OrderReply next = await TickAsync(65, step: 17); // w1 never votes; 65 s after the step was reached the order expires

        Assert.Equal((WorkerOrder.Checkpoint, 10L), (stillWaiting.Order, stillWaiting.CheckpointStep));
        Assert.Equal((WorkerOrder.Checkpoint, 30L), (next.Order, next.CheckpointStep)); // 17 + 5 lead steps is past 20
        Assert.Contains("ranks 1 did not vote within 60 s", (await client.GetCheckpointsAsync()).LastFailure, StringComparison.Ordinal);
    }

    private static async Task<(IReadOnlyList<JoinResponse> Joined, TestClient Client)> CommitTenAndTwentyAsync(TestCoordinator coordinator)
    {
        IReadOnlyList<JoinResponse> joined = await coordinator.JoinAllAsync("w0", "w1");
        await CheckpointFiles.CommitAsync(coordinator, joined, 10);
        await CheckpointFiles.CommitAsync(coordinator, joined, 20);
        return (joined, coordinator.Client());
    }

    private static async Task FlipByteAsync(TestCoordinator coordinator, string key)
    {
        await using BlobDownload? download = await coordinator.Store.OpenReadAsync(key);
        using var buffer = new MemoryStream();
        await download!.Content.CopyToAsync(buffer);
        byte[] bytes = buffer.ToArray();
        bytes[0] ^= 0x40;
        await coordinator.Store.PutAsync(key, new MemoryStream(bytes));
    }
}
