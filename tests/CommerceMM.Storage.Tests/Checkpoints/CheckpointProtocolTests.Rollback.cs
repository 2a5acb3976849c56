using CommerceMM.Storage.Checkpoints;

namespace CommerceMM.Storage.Tests.Checkpoints;

/// <summary>An operator's rollback to an earlier committed checkpoint (<see cref="CheckpointRollback"/>), on each store.</summary>
public abstract partial class CheckpointProtocolTests
{
    private static readonly TimeProvider RollbackTime = new FixedTime(new DateTimeOffset(2026, 12, 6, 21, 45, 12, TimeSpan.Zero));

    [Fact]
    public async Task Rollback_MovesLatestBack_AndKeepsTheCheckpointsAboveItAsTheyWere_OutsideWhatRestoreReads()
    {
        foreach (long step in new long[] { 10, 20, 30 }) await SaveAndCommitAsync(step, worldSize: 2);
        Dictionary<string, byte[]> before = await ReadAllAsync(CheckpointLayout.StepFolder(Job, 20), CheckpointLayout.StepFolder(Job, 30));

        CheckpointRollbackPlan plan = await CheckpointRollback.PlanAsync(Store, Job, 10);
        CheckpointRollbackResult result = await CheckpointRollback.RunAsync(Store, plan, "loss spiked at step 23", skipSteps: 0, RollbackTime);

        Assert.Equal(30L, plan.FromStep);
        Assert.Equal([20, 30], plan.Moving.Select(m => m.Step));
        Assert.Equal(10, (await CheckpointCommitter.ReadLatestAsync(Store, Job))!.Value.Pointer.Step);
        RestoreSelection restore = await CheckpointCatalog.FindNewestVerifiedAsync(Store, Job, ConfigHash);
        Assert.Equal(10, restore.Checkpoint!.Step);
        Assert.Empty(restore.Skipped);
        Assert.Empty(await ListKeysAsync(CheckpointLayout.StepFolder(Job, 20)));
        Assert.Empty(await ListKeysAsync(CheckpointLayout.StepFolder(Job, 30)));
        Assert.Equal($"{Job}/rolled-back/20261206T214512Z/", result.Folder);
        foreach ((string key, byte[] bytes) in before)
        {
            Assert.Equal(bytes, await ReadBytesAsync(result.Folder + key[CheckpointLayout.CheckpointsPrefix(Job).Length..]));
        }

        RolledBackCheckpoints kept = Assert.Single(await CheckpointRollback.ListAsync(Store, Job));
        Assert.Equal(result.Folder, kept.Folder);
        Assert.Equal([20, 30], kept.Steps);
        Assert.Equal("rolled back 2026-12-06 21:45:12 UTC from step 30 to step 10: loss spiked at step 23", kept.Record!.ToString());
    }

    [Fact]
    public async Task Rollback_ThenTrainingOn_CommitsTheSameStepsAgain_AndLeavesTheKeptOnesAlone()
    {
        foreach (long step in new long[] { 10, 20 }) await SaveAndCommitAsync(step, worldSize: 1);
        CheckpointRollbackResult result = await CheckpointRollback.RunAsync(Store, await CheckpointRollback.PlanAsync(Store, Job, 10), "test", skipSteps: 0, RollbackTime);
        byte[] kept = await ReadBytesAsync(result.Folder + "step-20/manifest.json");

        CheckpointCommitResult again = await SaveAndCommitAsync(20, worldSize: 1, generation: 4);

        Assert.Equal((CheckpointCommitStatus.Committed, true), (again.Status, again.LatestMoved));
        Assert.Equal(4, (await CheckpointCatalog.FindNewestVerifiedAsync(Store, Job, ConfigHash)).Checkpoint!.Generation);
        Assert.Equal(kept, await ReadBytesAsync(result.Folder + "step-20/manifest.json"));
    }

    [Fact]
    public async Task Rollback_SkippingData_IsHandedToTheRestoreOfItsStepOnly_AndTheNextCommitEndsIt()
    {
        foreach (long step in new long[] { 10, 20, 30 }) await SaveAndCommitAsync(step, worldSize: 1);
        string plain = await ReadTextAsync(CheckpointLayout.LatestKey(Job));

        CheckpointRollbackResult result = await CheckpointRollback.RunAsync(Store, await CheckpointRollback.PlanAsync(Store, Job, 20), "bad batches", skipSteps: 7, RollbackTime);
        RestoreSelection skipping = await CheckpointCatalog.FindNewestVerifiedAsync(Store, Job, ConfigHash);
        await FlipByteAsync(CheckpointLayout.FileKey(Job, 20, "model-b.safetensors"), at: 9);
        RestoreSelection older = await CheckpointCatalog.FindNewestVerifiedAsync(Store, Job, ConfigHash);
        await SaveAndCommitAsync(30, worldSize: 1, generation: 4);
        RestoreSelection after = await CheckpointCatalog.FindNewestVerifiedAsync(Store, Job, ConfigHash);

        Assert.Equal((20L, 7L), (skipping.Checkpoint!.Step, skipping.SkipSteps));
        Assert.Equal((10L, 0L), (older.Checkpoint!.Step, older.SkipSteps)); // the skip belongs to step 20's data position
        Assert.Equal((30L, 0L), (after.Checkpoint!.Step, after.SkipSteps));
        Assert.DoesNotContain("skip", plain, StringComparison.OrdinalIgnoreCase); // pointers without a skip are written as before
        Assert.Equal("rolled back 2026-12-06 21:45:12 UTC from step 30 to step 20, skipping the data of 7 steps: bad batches",
            Assert.Single(await CheckpointRollback.ListAsync(Store, Job), k => k.Folder == result.Folder).Record!.ToString());
    }

    [Fact]
    public async Task Rollback_ToAStepThatDoesNotVerify_ChangesNothing()
    {
        foreach (long step in new long[] { 10, 20 }) await SaveAndCommitAsync(step, worldSize: 1);
        await FlipByteAsync(CheckpointLayout.FileKey(Job, 10, "model-a.safetensors"), at: 7);
        CheckpointRollbackPlan plan = await CheckpointRollback.PlanAsync(Store, Job, 10);

        var refused = await Assert.ThrowsAsync<CheckpointException>(() => CheckpointRollback.RunAsync(Store, plan, "test", skipSteps: 0, RollbackTime));

        Assert.Contains("step 10 does not verify (file 'model-a.safetensors': SHA-256 expected", refused.Message, StringComparison.Ordinal);
        Assert.Contains("nothing was changed", refused.Message, StringComparison.Ordinal);
        Assert.Equal(20, (await CheckpointCommitter.ReadLatestAsync(Store, Job))!.Value.Pointer.Step);
        Assert.NotNull(await CheckpointCatalog.ReadManifestAsync(Store, Job, 20));
        Assert.Empty(await ListKeysAsync(CheckpointLayout.RolledBackPrefix(Job)));
    }

    [Fact]
    public async Task Rollback_WhenACheckpointCommitsAfterThePlan_IsRefused_AndEveryCheckpointStaysWhereItWas()
    {
        foreach (long step in new long[] { 10, 20 }) await SaveAndCommitAsync(step, worldSize: 1);
        CheckpointRollbackPlan plan = await CheckpointRollback.PlanAsync(Store, Job, 10);
        await SaveAndCommitAsync(30, worldSize: 1);

        var refused = await Assert.ThrowsAsync<CheckpointException>(() => CheckpointRollback.RunAsync(Store, plan, "test", skipSteps: 0, RollbackTime));

        Assert.Contains("changed while rolling back (a checkpoint committed: is the job running?): nothing was rolled back", refused.Message, StringComparison.Ordinal);
        Assert.Equal(30, (await CheckpointCatalog.FindNewestVerifiedAsync(Store, Job, ConfigHash)).Checkpoint!.Step);
        Assert.NotNull(await CheckpointCatalog.ReadManifestAsync(Store, Job, 20));
        Assert.Empty(await ListKeysAsync(CheckpointLayout.RolledBackPrefix(Job)));
    }

    [Fact]
    public async Task Rollback_CutOffAfterLatestMoved_LeavesNothingRestoreTakes_AndRecoveryAbortsTheLeftovers()
    {
        foreach (long step in new long[] { 10, 20 }) await SaveAndCommitAsync(step, worldSize: 1);
        var dying = new CrashingBlobStore(Store, (operation, _) => operation == CrashingBlobStore.Delete);

        await Assert.ThrowsAsync<SimulatedCrashException>(async () =>
            await CheckpointRollback.RunAsync(dying, await CheckpointRollback.PlanAsync(dying, Job, 10), "test", skipSteps: 0, RollbackTime));
        CheckpointRecoveryResult recovered = await CheckpointRecovery.RecoverAsync(Store, Job);

        Assert.True(dying.Crashed);
        Assert.Equal(10, (await CheckpointCatalog.FindNewestVerifiedAsync(Store, Job, ConfigHash)).Checkpoint!.Step);
        Assert.Equal(20, Assert.Single(recovered.Actions, a => !a.Finished).Step);
        Assert.True((await SaveAndCommitAsync(20, worldSize: 1, generation: 4)).Succeeded);
        Assert.Equal(new long[] { 20 }, Assert.Single(await CheckpointRollback.ListAsync(Store, Job)).Steps);
    }

    [Fact]
    public async Task TwoRollbacksInTheSameSecond_KeepTheirCheckpointsApart()
    {
        foreach (long step in new long[] { 10, 20, 30 }) await SaveAndCommitAsync(step, worldSize: 1);

        CheckpointRollbackResult first = await CheckpointRollback.RunAsync(Store, await CheckpointRollback.PlanAsync(Store, Job, 20), "first", skipSteps: 0, RollbackTime);
        CheckpointRollbackResult second = await CheckpointRollback.RunAsync(Store, await CheckpointRollback.PlanAsync(Store, Job, 10), "second", skipSteps: 0, RollbackTime);

        Assert.Equal(first.Folder.TrimEnd('/') + "-2/", second.Folder);
        Assert.Equal(
            [(first.Folder, "30"), (second.Folder, "20")],
            (await CheckpointRollback.ListAsync(Store, Job)).Select(k => (k.Folder, string.Join(",", k.Steps))));
    }

    [Fact]
    public async Task Undo_PutsTheKeptCheckpointsBack_AndLatestNamesItsStepAgain_WithoutTheSkip()
    {
        foreach (long step in new long[] { 10, 20, 30 }) await SaveAndCommitAsync(step, worldSize: 2);
        Dictionary<string, byte[]> before = await ReadAllAsync(CheckpointLayout.StepFolder(Job, 20), CheckpointLayout.StepFolder(Job, 30));
        await CheckpointRollback.RunAsync(Store, await CheckpointRollback.PlanAsync(Store, Job, 10), "wrong step", skipSteps: 3, RollbackTime);
        // Training after the rollback saved part of step 20 and was stopped before committing it.
        await Store.PutAsync(CheckpointLayout.FileKey(Job, 20, "rank-00003/state.json"), new MemoryStream([1, 2, 3]));

        (RollbackRecord record, string folder) = await CheckpointRollback.UndoAsync(Store, Job);

        Assert.Equal((30L, 10L, 3L), (record.FromStep, record.ToStep, record.SkipSteps));
        RestoreSelection restore = await CheckpointCatalog.FindNewestVerifiedAsync(Store, Job, ConfigHash);
        Assert.Equal((30L, 0L), (restore.Checkpoint!.Step, restore.SkipSteps));
        Assert.Equal(before, await ReadAllAsync(CheckpointLayout.StepFolder(Job, 20), CheckpointLayout.StepFolder(Job, 30)));
        Assert.Empty(await ListKeysAsync(folder));
        Assert.Empty(await CheckpointRollback.ListAsync(Store, Job));
    }

    [Fact]
    public async Task Undo_AfterACommitSinceTheRollback_IsRefused_AndTheKeptCheckpointsStay()
    {
        foreach (long step in new long[] { 10, 20 }) await SaveAndCommitAsync(step, worldSize: 1);
        await CheckpointRollback.RunAsync(Store, await CheckpointRollback.PlanAsync(Store, Job, 10), "test", skipSteps: 0, RollbackTime);
        await SaveAndCommitAsync(20, worldSize: 1, generation: 4);

        var refused = await Assert.ThrowsAsync<CheckpointException>(() => CheckpointRollback.UndoAsync(Store, Job));
        var nothing = await Assert.ThrowsAsync<CheckpointException>(() => CheckpointRollback.UndoAsync(Store, $"{Job}-other"));

        Assert.Contains("cannot be undone: latest names step 20, not step 10, so checkpoints were committed since. Its checkpoints stay under", refused.Message, StringComparison.Ordinal);
        Assert.Equal(4, (await CheckpointCatalog.FindNewestVerifiedAsync(Store, Job, ConfigHash)).Checkpoint!.Generation);
        Assert.Equal([20L], Assert.Single(await CheckpointRollback.ListAsync(Store, Job)).Steps);
        Assert.Equal($"job '{Job}-other' has no rollback to undo", nothing.Message);
    }

    [Theory]
    [InlineData(20, "latest already names step 20: there is nothing above it to roll back (committed steps: 10, 20)")]
    [InlineData(25, "step 25 is after latest (step 20): a rollback goes back to an earlier committed checkpoint (committed steps: 10, 20)")]
    [InlineData(15, "has no committed checkpoint at step 15 (committed steps: 10, 20)")]
    public async Task Rollback_ToAStepThatIsNoEarlierCommittedCheckpoint_IsRefusedNamingTheSteps(long step, string expected)
    {
        foreach (long committed in new long[] { 10, 20 }) await SaveAndCommitAsync(committed, worldSize: 1);

        var refused = await Assert.ThrowsAsync<CheckpointException>(() => CheckpointRollback.PlanAsync(Store, Job, step));

        Assert.Contains(expected, refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rollback_OfAJobWithNothingCommitted_IsRefused()
    {
        var refused = await Assert.ThrowsAsync<CheckpointException>(() => CheckpointRollback.PlanAsync(Store, Job, 10));

        Assert.Equal($"job '{Job}' has no committed checkpoint: there is nothing to roll back", refused.Message);
    }

    private async Task<Dictionary<string, byte[]>> ReadAllAsync(params string[] prefixes)
    {
        var all = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (string prefix in prefixes)
        {
            foreach (string key in await ListKeysAsync(prefix)) all[key] = await ReadBytesAsync(key);
        }

        Assert.NotEmpty(all);
        return all;
    }

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
