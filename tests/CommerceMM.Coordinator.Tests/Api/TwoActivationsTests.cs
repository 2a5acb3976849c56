using CommerceMM.Coordinator.Contracts;
using CommerceMM.Coordinator.Grains;
using CommerceMM.Coordinator.Tests.Support;

namespace CommerceMM.Coordinator.Tests.Api;

/// <summary>
/// Two coordinators for one job on one store, each a single-silo cluster of its own: two activations of every grain
/// of the job, the split brain Orleans' eventually consistent directory allows for a while. Only the generation and
/// the ETags keep them apart.
/// </summary>
public sealed class TwoActivationsTests
{
    [Fact]
    public async Task AdvanceGenerationAsync_BothActivationsBump_SecondGetsConflictThenSeesTheFirst()
    {
        await using TestCoordinator first = await TestCoordinator.StartAsync();
        await using TestCoordinator second = await TestCoordinator.StartBesideAsync(first);
        IJobGrain a = first.Host.Grains(first.Spec.Name).Job, b = second.Host.Grains(second.Spec.Name).Job;
        await a.GetAsync();
        await b.GetAsync();

        GrainResult<JobSnapshot> won = await a.AdvanceGenerationAsync(1, "rank 1 lost", restart: true);
        GrainResult<JobSnapshot> lost = await b.AdvanceGenerationAsync(1, "rank 0 lost", restart: true);
        JobSnapshot reread = await b.GetAsync();

        Assert.Equal(2, won.Value!.Generation);
        Assert.Equal(GrainStatus.Conflict, lost.Status);
        Assert.Contains("ETag", lost.Message, StringComparison.Ordinal);
        Assert.Equal((2L, "rank 1 lost"), (reread.Generation, reread.Reason));
    }

    [Fact]
    public async Task VoteAsync_BothActivationsGetEveryVote_OneCommitAndLatestMovesOnce()
    {
        await using TestCoordinator first = await TestCoordinator.StartAsync();
        await using TestCoordinator second = await TestCoordinator.StartBesideAsync(first);
        IReadOnlyList<JoinResponse> joined = await first.JoinAllAsync("w0", "w1");
        ICheckpointGrain a = first.Host.Grains(first.Spec.Name).Checkpoints, b = second.Host.Grains(second.Spec.Name).Checkpoints;
        await b.GetAsync(); // both activations hold the same (empty) state before either orders
        Assert.True((await a.OrderAsync(joined[0].Generation, 2, 10, "test", leaving: null, regroup: false)).IsOk);
        GrainResult<CheckpointOrderView> secondOrder = await b.OrderAsync(joined[0].Generation, 2, 10, "test", leaving: null, regroup: false);

        var replies = new List<GrainResult<CheckpointVoteReply>>();
        for (int i = 0; i < joined.Count; i++)
        {
            CheckpointVote vote = CheckpointFiles.Vote(joined[i], $"w{i}", 10, await CheckpointFiles.UploadAsync(first.Store, first.Spec.Name, 10, joined[i].Rank));
            replies.Add(await a.VoteAsync(vote));
            replies.Add(await b.VoteAsync(vote));
        }

        // The second activation's order lost its write (or its later votes did): it never reached a commit of its own.
        Assert.True(!secondOrder.IsOk || replies.Where((_, i) => i % 2 == 1).Any(r => r.Status == GrainStatus.Conflict));
        Assert.Single(replies, r => r.Value?.Status == CheckpointVoteStatus.Committed && r.Value.Message != "step 10 is already committed");
        Assert.Equal(10, (await b.GetAsync()).LastCommitted?.Step);
    }

    [Fact]
    public async Task AssignAsync_BothActivationsAssignTheSameGeneration_OnlyTheFirstAssignmentStands()
    {
        await using TestCoordinator first = await TestCoordinator.StartAsync();
        await using TestCoordinator second = await TestCoordinator.StartBesideAsync(first);
        IShardLedgerGrain a = first.Host.Grains(first.Spec.Name).Ledger, b = second.Host.Grains(second.Spec.Name).Ledger;
        await a.GetAsync();
        await b.GetAsync();

        GrainResult<ShardLedgerView> won = await a.AssignAsync(1, [new ShardAssignment(0, 0, "w0"), new ShardAssignment(1, 1, "w1")]);
        GrainResult<ShardLedgerView> lost = await b.AssignAsync(1, [new ShardAssignment(0, 0, "w9")]);
        ShardLedgerView reread = await b.GetAsync();

        Assert.True(won.IsOk);
        Assert.Equal(GrainStatus.Conflict, lost.Status);
        Assert.Equal(["w0", "w1"], reread.Assignments.Select(x => x.WorkerId)); // partition 0 was handed out once, to w0
    }

    [Fact]
    public async Task Gateway_JobThisControlPlaneDoesNotRun_RefusedAsUnknownAndNothingActivates()
    {
        await using TestCoordinator coordinator = await TestCoordinator.StartAsync();
        IWorkerGatewayGrain other = coordinator.Host.Grains("job-b").Workers;

        GrainResult<JoinResponse> refused = await other.JoinAsync(TestCoordinator.Token, new JoinRequest("w0"));

        Assert.Equal(GrainStatus.UnknownJob, refused.Status);
        Assert.Contains("'job-b'", refused.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(coordinator.Root, "job-b")));
    }
}
