using CommerceMM.Storage.Checkpoints;

namespace CommerceMM.Storage.Tests.Checkpoints;

public sealed class CheckpointRetentionPlanTests
{
    [Fact]
    public void Plan_KeepLastTwo_DeletesOlderCommitted()
    {
        IReadOnlyList<long> doomed = CheckpointRetention.Plan(Committed(1, 2, 3, 4), latestStep: 4, newestVerifiedStep: 4, new CheckpointRetentionPolicy(2));

        Assert.Equal(new long[] { 1, 2 }, doomed);
    }

    [Fact]
    public void Plan_KeepEveryThree_KeepsMultiplesOutsideTheWindow()
    {
        IReadOnlyList<long> doomed = CheckpointRetention.Plan(Committed(1, 2, 3, 4, 5, 6, 7), latestStep: 7, newestVerifiedStep: 7, new CheckpointRetentionPolicy(1, keepEvery: 3));

        Assert.Equal(new long[] { 1, 2, 4, 5 }, doomed);
    }

    [Fact]
    public void Plan_NewestVerifiedOutsideKeepLast_IsNeverDeleted()
    {
        // Steps 3 and 4 are committed but corrupt: the newest verified is 2, which keep-last-1 alone would drop.
        IReadOnlyList<long> doomed = CheckpointRetention.Plan(Committed(1, 2, 3, 4), latestStep: 4, newestVerifiedStep: 2, new CheckpointRetentionPolicy(1));

        Assert.Equal(new long[] { 1, 3 }, doomed);
    }

    [Fact]
    public void Plan_FoldersNewerThanLatest_AreNeverDeleted()
    {
        // Step 5 may be a save in flight (files uploaded, manifest not yet written); step 6 committed but latest not yet moved.
        var folders = Committed(1, 2, 3).Append(new CheckpointFolder(5, false, 2, 10)).Append(new CheckpointFolder(6, true, 2, 10)).ToList();

        IReadOnlyList<long> doomed = CheckpointRetention.Plan(folders, latestStep: 3, newestVerifiedStep: 3, new CheckpointRetentionPolicy(1));

        Assert.Equal(new long[] { 1, 2 }, doomed);
    }

    [Fact]
    public void Plan_InterruptedSaveBelowLatest_IsDeleted()
    {
        var folders = Committed(1, 3).Append(new CheckpointFolder(2, false, 1, 10)).ToList();

        IReadOnlyList<long> doomed = CheckpointRetention.Plan(folders, latestStep: 3, newestVerifiedStep: 3, new CheckpointRetentionPolicy(5));

        Assert.Equal(new long[] { 2 }, doomed);
    }

    [Fact]
    public void Plan_NoLatest_DeletesNothing()
    {
        IReadOnlyList<long> doomed = CheckpointRetention.Plan(Committed(1, 2, 3), latestStep: null, newestVerifiedStep: null, new CheckpointRetentionPolicy(1));

        Assert.Empty(doomed);
    }

    [Fact]
    public void Plan_NothingVerified_StillKeepsLatest()
    {
        IReadOnlyList<long> doomed = CheckpointRetention.Plan(Committed(1, 2), latestStep: 2, newestVerifiedStep: null, new CheckpointRetentionPolicy(1));

        Assert.Equal(new long[] { 1 }, doomed);
    }

    [Theory]
    [InlineData(1, 0)]
    [InlineData(2, 0)]
    [InlineData(1, 4)]
    [InlineData(3, 5)]
    public void Plan_AnyPolicy_NeverDeletesLatestOrNewestVerified(int keepLast, long keepEvery)
    {
        for (long verified = 1; verified <= 9; verified++)
        {
            IReadOnlyList<long> doomed = CheckpointRetention.Plan(Committed(1, 2, 3, 4, 5, 6, 7, 8, 9), 9, verified, new CheckpointRetentionPolicy(keepLast, keepEvery));

            Assert.DoesNotContain(9, doomed);
            Assert.DoesNotContain(verified, doomed);
        }
    }

    [Fact]
    public void Policy_KeepLastZero_Throws() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new CheckpointRetentionPolicy(0));

    private static List<CheckpointFolder> Committed(params long[] steps) => steps.Select(s => new CheckpointFolder(s, true, 3, 100)).ToList();
}
