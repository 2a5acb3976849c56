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

        GrainResult<JobSnapshot> won = await a.AdvanceGenerationAsync(1, "rank 1 lost");
        GrainResult<JobSnapshot> lost = await b.AdvanceGenerationAsync(1, "rank 0 lost");
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
        Assert.True((await a.OrderAsync(joined[0].Generation, 2, 10, "test", stopAfterCommit: false)).IsOk);
        GrainResult<CheckpointOrderView> secondOrder = await b.OrderAsync(joined[0].Generation, 2, 10, "test", stopAfterCommit: false);

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
}
