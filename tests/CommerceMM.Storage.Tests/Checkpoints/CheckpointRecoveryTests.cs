using System.Text;
using CommerceMM.Storage.Blobs;
using CommerceMM.Storage.Checkpoints;
using CommerceMM.Storage.FileSystem;

namespace CommerceMM.Storage.Tests.Checkpoints;

/// <summary>
/// Each crash point of the commit protocol, hit for real: the save or commit runs through a
/// <see cref="CrashingBlobStore"/> that dies at that point, then recovery runs on the file store as a restarted
/// committer would. Afterwards <c>latest</c>, restore and the manifests must agree, and the step must commit again.
/// </summary>
public sealed class CheckpointRecoveryTests : IDisposable
{
    private const string Job = "job-r";
    private readonly TempDirectory _root = new();
    private readonly FileBlobStore _store;

    public CheckpointRecoveryTests() => _store = new FileBlobStore(_root.Path);

    public void Dispose() => _root.Dispose();

    [Fact]
    public async Task Recover_FilesPartlyWritten_ChangesNothingAndTheStepSavesAndCommitsAgain()
    {
        await SaveAndCommitAsync(_store, 10);
        var crashing = Crash((op, key) => op == CrashingBlobStore.Put && key.Contains("step-20/rank-00001/", StringComparison.Ordinal));
        await Assert.ThrowsAsync<SimulatedCrashException>(() => SaveAndCommitAsync(crashing, 20));

        CheckpointRecoveryResult recovered = await CheckpointRecovery.RecoverAsync(_store, Job);

        Assert.True(crashing.Crashed);
        Assert.Empty(recovered.Actions);
        Assert.Equal(10, recovered.Latest!.Step);
        await AssertAgreeAsync(latest: 10);
        Assert.True((await SaveAndCommitAsync(_store, 20)).Succeeded);
        await AssertAgreeAsync(latest: 20);
    }

    [Theory]
    [InlineData(CrashingBlobStore.Read, "step-20/model-a")] // manifest written, verification not yet run
    [InlineData(CrashingBlobStore.Put, "checkpoints/latest")] // manifest written and verified, latest not moved
    public async Task Recover_ManifestWrittenLatestNotMoved_AbortsItKeepsLatestAndTheStepCommitsAgain(string operation, string key)
    {
        await SaveAndCommitAsync(_store, 10);
        var crashing = Crash((op, k) => op == operation && k.Contains(key, StringComparison.Ordinal));
        await Assert.ThrowsAsync<SimulatedCrashException>(() => SaveAndCommitAsync(crashing, 20));
        Assert.NotNull(await CheckpointCatalog.ReadManifestAsync(_store, Job, 20)); // the torn state a kill -9 leaves

        CheckpointRecoveryResult recovered = await CheckpointRecovery.RecoverAsync(_store, Job);

        RecoveredCommit aborted = Assert.Single(recovered.Actions);
        Assert.Equal((20L, false), (aborted.Step, aborted.Finished));
        Assert.Contains("latest still names step 10", aborted.Reason, StringComparison.Ordinal);
        Assert.Null(await CheckpointCatalog.ReadManifestAsync(_store, Job, 20));
        await AssertAgreeAsync(latest: 10);
        Assert.Empty((await CheckpointRecovery.RecoverAsync(_store, Job)).Actions); // idempotent
        // Left in place, the manifest would refuse this save ("already committed") or win the commit with stale checksums.
        Assert.True((await SaveAndCommitAsync(_store, 20)).Succeeded);
        await AssertAgreeAsync(latest: 20);
    }

    [Fact]
    public async Task Recover_FirstCommitTornBeforeLatest_FinishesItBecauseRestoreAlreadyTakesIt()
    {
        var crashing = Crash((op, key) => op == CrashingBlobStore.Put && key.EndsWith("/latest", StringComparison.Ordinal));
        await Assert.ThrowsAsync<SimulatedCrashException>(() => SaveAndCommitAsync(crashing, 10, generation: 4));
        Assert.Null(await CheckpointCommitter.ReadLatestAsync(_store, Job));

        CheckpointRecoveryResult recovered = await CheckpointRecovery.RecoverAsync(_store, Job);

        RecoveredCommit finished = Assert.Single(recovered.Actions);
        Assert.Equal((10L, true), (finished.Step, finished.Finished));
        Assert.Equal((10L, 4L), (recovered.Latest!.Step, recovered.Latest.Generation));
        await AssertAgreeAsync(latest: 10);
    }

    [Fact]
    public async Task Recover_NoLatestAndTwoTornManifests_AbortsTheNewerCorruptOneAndFinishesTheOlder()
    {
        foreach (long step in new long[] { 10, 20 })
        {
            var crashing = Crash((op, key) => op == CrashingBlobStore.Put && key.EndsWith("/latest", StringComparison.Ordinal));
            await Assert.ThrowsAsync<SimulatedCrashException>(() => SaveAndCommitAsync(crashing, step));
        }

        await FlipByteAsync(CheckpointLayout.FileKey(Job, 20, "rank-00000/state.json"));

        CheckpointRecoveryResult recovered = await CheckpointRecovery.RecoverAsync(_store, Job);

        Assert.Equal([(20L, false), (10L, true)], recovered.Actions.Select(a => (a.Step, a.Finished)));
        Assert.Contains("'rank-00000/state.json': SHA-256 expected", recovered.Actions[0].Reason, StringComparison.Ordinal);
        await AssertAgreeAsync(latest: 10);
    }

    [Fact]
    public async Task Recover_NoLatestAndTheOnlyTornManifestCorrupt_AbortsItAndTheJobStartsFresh()
    {
        var crashing = Crash((op, key) => op == CrashingBlobStore.Put && key.EndsWith("/latest", StringComparison.Ordinal));
        await Assert.ThrowsAsync<SimulatedCrashException>(() => SaveAndCommitAsync(crashing, 10));
        await _store.DeleteAsync(CheckpointLayout.FileKey(Job, 10, "model-b.safetensors"));

        CheckpointRecoveryResult recovered = await CheckpointRecovery.RecoverAsync(_store, Job);

        Assert.Contains("'model-b.safetensors' is missing", Assert.Single(recovered.Actions).Reason, StringComparison.Ordinal);
        Assert.Null(recovered.Latest);
        Assert.Null((await CheckpointCatalog.FindNewestVerifiedAsync(_store, Job)).Checkpoint);
        Assert.Null(await CheckpointCatalog.ReadManifestAsync(_store, Job, 10));
    }

    [Fact]
    public async Task Recover_CrashWhileWithdrawingAFailedCommit_AbortsTheLeftoverManifest()
    {
        await SaveAndCommitAsync(_store, 10);
        IReadOnlyList<CheckpointFileEntry> files = await UploadAsync(_store, 20);
        await FlipByteAsync(CheckpointLayout.FileKey(Job, 20, "optimizer.safetensors"));
        var crashing = Crash((op, key) => op == CrashingBlobStore.Delete && key.EndsWith("step-20/manifest.json", StringComparison.Ordinal));
        await Assert.ThrowsAsync<SimulatedCrashException>(() => CheckpointCommitter.CommitAsync(crashing, Manifest(20, files)));

        CheckpointRecoveryResult recovered = await CheckpointRecovery.RecoverAsync(_store, Job);

        Assert.Equal(20, Assert.Single(recovered.Actions).Step);
        await AssertAgreeAsync(latest: 10);
    }

    [Fact]
    public async Task Recover_CrashAfterLatestMoved_ChangesNothing()
    {
        // The last stage is the caller's (the coordinator records the commit): storage is already consistent.
        await SaveAndCommitAsync(_store, 10);
        await SaveAndCommitAsync(_store, 20);

        CheckpointRecoveryResult recovered = await CheckpointRecovery.RecoverAsync(_store, Job);

        Assert.Empty(recovered.Actions);
        await AssertAgreeAsync(latest: 20);
        Assert.NotNull(await CheckpointCatalog.ReadManifestAsync(_store, Job, 10));
    }

    [Fact]
    public async Task Recover_UnreadableLatest_ThrowsNamingTheKeyAndChangesNothing()
    {
        await SaveAndCommitAsync(_store, 10);
        var crashing = Crash((op, key) => op == CrashingBlobStore.Put && key.EndsWith("/latest", StringComparison.Ordinal));
        await Assert.ThrowsAsync<SimulatedCrashException>(() => SaveAndCommitAsync(crashing, 20));
        await _store.PutAsync(CheckpointLayout.LatestKey(Job), new MemoryStream("{not json"u8.ToArray()));

        CheckpointException e = await Assert.ThrowsAsync<CheckpointException>(() => CheckpointRecovery.RecoverAsync(_store, Job));

        Assert.Contains($"'{Job}/checkpoints/latest' cannot be read", e.Message, StringComparison.Ordinal);
        Assert.NotNull(await CheckpointCatalog.ReadManifestAsync(_store, Job, 20));
    }

    [Fact]
    public async Task RollBack_LatestCorrupt_PointsLatestAtTheRestoredStepAndLaterStepsCommitAgain()
    {
        await SaveAndCommitAsync(_store, 10, generation: 2);
        await SaveAndCommitAsync(_store, 20);
        await FlipByteAsync(CheckpointLayout.FileKey(Job, 20, "model-a.safetensors"));
        Assert.Equal(10, (await CheckpointCatalog.FindNewestVerifiedAsync(_store, Job)).Checkpoint!.Step); // what the workers restore

        CheckpointRecoveryResult rolledBack = await CheckpointRecovery.RollBackAsync(_store, Job, restoredStep: 10);

        RecoveredCommit aborted = Assert.Single(rolledBack.Actions);
        Assert.Equal((20L, false), (aborted.Step, aborted.Finished));
        Assert.Contains("'model-a.safetensors': SHA-256 expected", aborted.Reason, StringComparison.Ordinal);
        Assert.EndsWith("the workers restored step 10", aborted.Reason, StringComparison.Ordinal);
        Assert.Equal((10L, 2L), (rolledBack.Latest!.Step, rolledBack.Latest.Generation));
        await AssertAgreeAsync(latest: 10);
        CheckpointFolder setAside = (await CheckpointCatalog.ListAsync(_store, Job)).Single(f => f.Step == 20);
        Assert.Equal((false, true, 5), (setAside.HasManifest, setAside.SetAside, setAside.FileCount)); // the files stay
        Assert.Contains("was set aside", Assert.Single((await CheckpointCatalog.FindNewestVerifiedAsync(_store, Job)).Skipped).Reason, StringComparison.Ordinal);
        Assert.Empty((await CheckpointRecovery.RollBackAsync(_store, Job, restoredStep: 10)).Actions); // idempotent
        CheckpointCommitResult again = await SaveAndCommitAsync(_store, 20); // the old manifest would have "won" with stale checksums
        Assert.True(again is { Succeeded: true, LatestMoved: true });
        await AssertAgreeAsync(latest: 20);
        Assert.False((await CheckpointCatalog.ListAsync(_store, Job)).Single(f => f.Step == 20).SetAside); // the note was about the old files
        Assert.Null(await CheckpointCatalog.ReadSetAsideAsync(_store, Job, 20));
    }

    [Fact]
    public async Task RollBack_NothingRestored_DeletesLatestAndAbortsEveryCorruptCommit()
    {
        await SaveAndCommitAsync(_store, 10);
        await _store.DeleteAsync(CheckpointLayout.FileKey(Job, 10, "optimizer.safetensors"));

        CheckpointRecoveryResult rolledBack = await CheckpointRecovery.RollBackAsync(_store, Job, restoredStep: null);

        Assert.Contains("they started from the seed", Assert.Single(rolledBack.Actions).Reason, StringComparison.Ordinal);
        Assert.Null(rolledBack.Latest);
        Assert.Null(await CheckpointCommitter.ReadLatestAsync(_store, Job));
        Assert.Null(await CheckpointCatalog.ReadManifestAsync(_store, Job, 10));
        Assert.True((await SaveAndCommitAsync(_store, 10)).LatestMoved);
    }

    [Fact]
    public async Task RollBack_ACheckpointAboveVerifiesHere_ThrowsNamingItAndChangesNothing()
    {
        await SaveAndCommitAsync(_store, 10);
        await SaveAndCommitAsync(_store, 20);
        await SaveAndCommitAsync(_store, 30);
        await FlipByteAsync(CheckpointLayout.FileKey(Job, 30, "rank-00001/state.json"));

        CheckpointException e = await Assert.ThrowsAsync<CheckpointException>(() => CheckpointRecovery.RollBackAsync(_store, Job, restoredStep: 10));

        Assert.StartsWith("step 20 verifies on the coordinator, yet the workers restored step 10", e.Message, StringComparison.Ordinal);
        Assert.Equal(30, (await CheckpointCommitter.ReadLatestAsync(_store, Job))!.Value.Pointer.Step);
        Assert.NotNull(await CheckpointCatalog.ReadManifestAsync(_store, Job, 30));
    }

    /// <summary>latest, restore's choice and the manifests agree: nothing above latest, restore takes latest.</summary>
    private async Task AssertAgreeAsync(long latest)
    {
        Assert.Equal(latest, (await CheckpointCommitter.ReadLatestAsync(_store, Job))!.Value.Pointer.Step);
        Assert.Equal(latest, (await CheckpointCatalog.FindNewestVerifiedAsync(_store, Job)).Checkpoint!.Step);
        Assert.DoesNotContain(await CheckpointCatalog.ListAsync(_store, Job), f => f.HasManifest && f.Step > latest);
    }

    private CrashingBlobStore Crash(Func<string, string, bool> before) => new(_store, before);

    /// <summary>Two ranks save through <see cref="AsyncCheckpointSaver"/>, then the manifest is committed, all through <paramref name="store"/>.</summary>
    private static async Task<CheckpointCommitResult> SaveAndCommitAsync(IBlobStore store, long step, long generation = 3) =>
        await CheckpointCommitter.CommitAsync(store, Manifest(step, await UploadAsync(store, step), generation));

    private static async Task<IReadOnlyList<CheckpointFileEntry>> UploadAsync(IBlobStore store, long step)
    {
        var files = new List<CheckpointFileEntry>();
        for (int rank = 0; rank < 2; rank++)
        {
            await using var saver = new AsyncCheckpointSaver(store, Job, rank, worldSize: 2);
            files.AddRange((await await saver.EnqueueAsync(Snapshot(step, rank))).Files);
        }

        return files;
    }

    private static CheckpointManifest Manifest(long step, IEnumerable<CheckpointFileEntry> files, long generation = 3) =>
        CheckpointManifest.Create(Job, step, generation, 2, "cfg-1", "test", files);

    private static CheckpointSnapshot Snapshot(long step, int rank) => new(
        step,
        [
            new SnapshotFile("model-a.safetensors", Bytes(8_000, step)),
            new SnapshotFile("model-b.safetensors", Bytes(4_000, step + 1)),
            new SnapshotFile("optimizer.safetensors", Bytes(2_000, step + 2)),
        ],
        [new SnapshotFile("state.json", Encoding.UTF8.GetBytes($"rank {rank} at step {step}"))]);

    private static byte[] Bytes(int size, long seed)
    {
        var bytes = new byte[size];
        new Random((int)seed).NextBytes(bytes);
        return bytes;
    }

    private async Task FlipByteAsync(string key)
    {
        await using BlobDownload? download = await _store.OpenReadAsync(key);
        using var buffer = new MemoryStream();
        await download!.Content.CopyToAsync(buffer);
        byte[] bytes = buffer.ToArray();
        bytes[0] ^= 0x40;
        await _store.PutAsync(key, new MemoryStream(bytes));
    }
}
