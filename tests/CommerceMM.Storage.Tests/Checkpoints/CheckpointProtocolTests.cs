using System.Text;
using CommerceMM.Storage.Blobs;
using CommerceMM.Storage.Checkpoints;

namespace CommerceMM.Storage.Tests.Checkpoints;

/// <summary>
/// Save, commit, restore and retention through a real store; each store has a subclass. Every test uses its own job
/// name, so subclasses may share a container and tests may run in parallel.
/// </summary>
public abstract partial class CheckpointProtocolTests
{
    protected const string ConfigHash = "cfg-1";

    protected string Job { get; } = $"job-{Guid.NewGuid():N}";

    protected abstract IBlobStore Store { get; }

    [Fact]
    public async Task CommitAsync_AllFilesValid_CommitsMovesLatestAndRestoresIt()
    {
        CheckpointCommitResult result = await SaveAndCommitAsync(step: 10, worldSize: 2);

        RestoreSelection restore = await CheckpointCatalog.FindNewestVerifiedAsync(Store, Job, ConfigHash);

        Assert.Equal(CheckpointCommitStatus.Committed, result.Status);
        Assert.True(result.LatestMoved);
        Assert.Equal(10, (await CheckpointCommitter.ReadLatestAsync(Store, Job))!.Value.Pointer.Step);
        CheckpointManifest manifest = restore.Checkpoint!;
        Assert.Equal(10, manifest.Step);
        Assert.Equal(2, manifest.WorldSize);
        Assert.Equal(3, manifest.Generation);
        Assert.Equal(
            new[] { "model-a.safetensors", "model-b.safetensors", "optimizer.safetensors", "rank-00000/state.json", "rank-00001/state.json" },
            manifest.Files.Select(f => f.Path));
        Assert.Empty(restore.Skipped);
        Assert.Equal("rank 1 at step 10", await ReadTextAsync(CheckpointLayout.FileKey(Job, 10, "rank-00001/state.json")));
    }

    [Fact]
    public async Task CommitAsync_TwoCommittersSameStep_ExactlyOneWinsAndTheOtherChangesNothing()
    {
        IReadOnlyList<CheckpointFileEntry> files = await UploadAsync(step: 5, worldSize: 1);
        CheckpointManifest first = Manifest(5, files, generation: 1);
        CheckpointManifest second = Manifest(5, files, generation: 2);

        CheckpointCommitResult[] results = await Task.WhenAll(CheckpointCommitter.CommitAsync(Store, first), CheckpointCommitter.CommitAsync(Store, second));

        Assert.Single(results, r => r.Status == CheckpointCommitStatus.Committed);
        CheckpointCommitResult loser = Assert.Single(results, r => r.Status == CheckpointCommitStatus.LostRace);
        Assert.Contains("another committer", loser.Message, StringComparison.Ordinal);
        long winnerGeneration = results[0].Succeeded ? 1 : 2;
        Assert.Equal(winnerGeneration, (await CheckpointCatalog.ReadManifestAsync(Store, Job, 5))!.Generation);
        Assert.Equal(winnerGeneration, (await CheckpointCommitter.ReadLatestAsync(Store, Job))!.Value.Pointer.Generation);
    }

    [Fact]
    public async Task CommitAsync_FileChangedAfterUpload_ReturnsInvalidWithdrawsManifestAndKeepsLatest()
    {
        await SaveAndCommitAsync(step: 1, worldSize: 1);
        IReadOnlyList<CheckpointFileEntry> files = await UploadAsync(step: 2, worldSize: 1);
        await FlipByteAsync(CheckpointLayout.FileKey(Job, 2, "optimizer.safetensors"), at: 3);

        CheckpointCommitResult result = await CheckpointCommitter.CommitAsync(Store, Manifest(2, files));

        Assert.Equal(CheckpointCommitStatus.Invalid, result.Status);
        Assert.Contains("'optimizer.safetensors': SHA-256 expected", result.Message, StringComparison.Ordinal);
        Assert.Null(await Store.GetPropertiesAsync(CheckpointLayout.ManifestKey(Job, 2)));
        Assert.Equal(1, (await CheckpointCommitter.ReadLatestAsync(Store, Job))!.Value.Pointer.Step);
    }

    [Fact]
    public async Task CommitAsync_OlderStepAfterNewer_CommitsButNeverMovesLatestBackwards()
    {
        await SaveAndCommitAsync(step: 20, worldSize: 1);

        CheckpointCommitResult older = await SaveAndCommitAsync(step: 10, worldSize: 1);

        Assert.True(older.Succeeded);
        Assert.False(older.LatestMoved);
        Assert.Equal(20, (await CheckpointCommitter.ReadLatestAsync(Store, Job))!.Value.Pointer.Step);
    }

    [Fact]
    public async Task FindNewestVerifiedAsync_FlippedByteInNewest_FallsBackNamingFileExpectedAndActual()
    {
        await SaveAndCommitAsync(step: 10, worldSize: 2);
        await SaveAndCommitAsync(step: 20, worldSize: 2);
        string key = CheckpointLayout.FileKey(Job, 20, "model-a.safetensors");
        string expected = (await CheckpointCatalog.ReadManifestAsync(Store, Job, 20))!.Files.Single(f => f.Path == "model-a.safetensors").Sha256;
        await FlipByteAsync(key, at: 100);

        RestoreSelection restore = await CheckpointCatalog.FindNewestVerifiedAsync(Store, Job, ConfigHash);

        Assert.Equal(10, restore.Checkpoint!.Step);
        SkippedCheckpoint skipped = Assert.Single(restore.Skipped);
        Assert.Equal(20, skipped.Step);
        Assert.Contains($"step-20 is corrupt: file 'model-a.safetensors': SHA-256 expected {expected} but found ", skipped.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FindNewestVerifiedAsync_Keep_HandsBackTheChosenFilesAsVerifiedReadingEachFileOnce()
    {
        await SaveAndCommitAsync(step: 10, worldSize: 2);
        await SaveAndCommitAsync(step: 20, worldSize: 2);
        await FlipByteAsync(CheckpointLayout.FileKey(Job, 20, "model-a.safetensors"), at: 100);
        var reads = new System.Collections.Concurrent.ConcurrentDictionary<string, int>();
        var counting = new CrashingBlobStore(Store, (operation, key) =>
        {
            if (operation == CrashingBlobStore.Read) reads.AddOrUpdate(key, 1, (_, n) => n + 1);
            return false;
        });

        RestoreSelection restore = await CheckpointCatalog.FindNewestVerifiedAsync(
            counting, Job, ConfigHash, (manifest, path) => manifest.Step == 10 ? path is "model-a.safetensors" or "rank-00001/state.json" : path == "model-b.safetensors");

        Assert.Equal(10, restore.Checkpoint!.Step);
        Assert.Equal(["model-a.safetensors", "rank-00001/state.json"], restore.Files.Keys.Order());
        Assert.Equal(await ReadBytesAsync(CheckpointLayout.FileKey(Job, 10, "model-a.safetensors")), restore.File("model-a.safetensors"));
        Assert.Equal("rank 1 at step 10", Encoding.UTF8.GetString(restore.File("rank-00001/state.json")));
        Assert.Contains("step-10 lists no file 'model.safetensors' (it lists: model-a.safetensors, ", Assert.Throws<CheckpointException>(() => restore.File("model.safetensors")).Message, StringComparison.Ordinal);
        // Every file of both candidates was read exactly once: the kept bytes are the verified ones, not a second read.
        Assert.All(reads.Where(r => !r.Key.EndsWith(CheckpointLayout.ManifestName, StringComparison.Ordinal) && r.Key.Contains("/step-", StringComparison.Ordinal)), r => Assert.Equal(1, r.Value));
        Assert.Equal(10, reads.Count(r => r.Key.EndsWith(".safetensors", StringComparison.Ordinal) || r.Key.EndsWith(".json", StringComparison.Ordinal) && r.Key.Contains("rank-", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task FindNewestVerifiedAsync_TruncatedFile_ReportsExpectedAndActualSize()
    {
        await SaveAndCommitAsync(step: 10, worldSize: 1);
        await SaveAndCommitAsync(step: 20, worldSize: 1);
        await Store.PutAsync(CheckpointLayout.FileKey(Job, 20, "optimizer.safetensors"), new MemoryStream([1, 2, 3]));

        RestoreSelection restore = await CheckpointCatalog.FindNewestVerifiedAsync(Store, Job);

        Assert.Equal(10, restore.Checkpoint!.Step);
        Assert.Contains("'optimizer.safetensors': size expected 3000 bytes but found 3", restore.Skipped[0].Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FindNewestVerifiedAsync_MissingManifest_IgnoresThatCheckpoint()
    {
        await SaveAndCommitAsync(step: 10, worldSize: 1);
        await SaveAndCommitAsync(step: 20, worldSize: 1);
        await Store.DeleteAsync(CheckpointLayout.ManifestKey(Job, 20));

        RestoreSelection restore = await CheckpointCatalog.FindNewestVerifiedAsync(Store, Job);

        Assert.Equal(10, restore.Checkpoint!.Step);
        Assert.Contains("step-20 has no manifest.json", Assert.Single(restore.Skipped).Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FindNewestVerifiedAsync_SaveInterruptedBeforeCommit_LatestStillNamesPreviousAndRestoresIt()
    {
        // What kill -9 during an upload leaves: some files of the next step, no manifest, latest untouched.
        await SaveAndCommitAsync(step: 10, worldSize: 1);
        await UploadAsync(step: 20, worldSize: 1);

        RestoreSelection restore = await CheckpointCatalog.FindNewestVerifiedAsync(Store, Job);

        Assert.Equal(10, (await CheckpointCommitter.ReadLatestAsync(Store, Job))!.Value.Pointer.Step);
        Assert.Equal(10, restore.Checkpoint!.Step);
        Assert.Contains("newer than latest", Assert.Single(restore.Skipped).Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FindNewestVerifiedAsync_UploadDiedMidFile_NothingOfThatFileIsVisibleAndThePreviousIsRestored()
    {
        // What a crash in the middle of streaming one (multi-block) file leaves: the files before it, nothing of it.
        await SaveAndCommitAsync(step: 10, worldSize: 1);
        await UploadAsync(step: 20, worldSize: 1);
        string key = CheckpointLayout.FileKey(Job, 20, "rank-00000/extra.safetensors");
        var dying = new DyingStream(new byte[300_000], failAfter: 200_000);

        await Assert.ThrowsAnyAsync<IOException>(() => Store.PutAsync(key, dying));
        RestoreSelection restore = await CheckpointCatalog.FindNewestVerifiedAsync(Store, Job);

        Assert.Null(await Store.GetPropertiesAsync(key));
        Assert.Null(await Store.OpenReadAsync(key));
        Assert.DoesNotContain(await ListKeysAsync(CheckpointLayout.CheckpointsPrefix(Job)), k => k == key);
        Assert.Equal(10, restore.Checkpoint!.Step);
        Assert.Equal(20, Assert.Single(restore.Skipped).Step);
    }

    [Fact]
    public async Task FindNewestVerifiedAsync_NothingSaved_ReturnsNoCheckpoint()
    {
        RestoreSelection restore = await CheckpointCatalog.FindNewestVerifiedAsync(Store, Job);

        Assert.Null(restore.Checkpoint);
        Assert.Empty(restore.Skipped);
    }

    [Fact]
    public async Task FindNewestVerifiedAsync_ConfigHashDiffers_ThrowsNamingBothHashes()
    {
        await SaveAndCommitAsync(step: 10, worldSize: 1);

        CheckpointException e = await Assert.ThrowsAsync<CheckpointException>(() => CheckpointCatalog.FindNewestVerifiedAsync(Store, Job, "cfg-2"));

        Assert.Contains("config hash cfg-1", e.Message, StringComparison.Ordinal);
        Assert.Contains("cfg-2", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FindNewestVerifiedAsync_ManifestOfAnotherJob_ThrowsAndTouchesNothing()
    {
        await SaveAndCommitAsync(step: 10, worldSize: 1);
        string otherJob = Job + "-other";
        byte[] manifest = await ReadBytesAsync(CheckpointLayout.ManifestKey(Job, 10));
        await Store.PutAsync(CheckpointLayout.ManifestKey(otherJob, 10), new MemoryStream(manifest));

        CheckpointException e = await Assert.ThrowsAsync<CheckpointException>(() => CheckpointCatalog.FindNewestVerifiedAsync(Store, otherJob));

        Assert.Contains($"holds the manifest of job '{Job}'", e.Message, StringComparison.Ordinal);
        Assert.NotNull(await Store.GetPropertiesAsync(CheckpointLayout.ManifestKey(otherJob, 10)));
    }

    [Fact]
    public async Task ApplyAsync_KeepLastTwoAndEveryTwenty_DeletesTheRestAndRestoreStillWorks()
    {
        foreach (long step in new long[] { 10, 20, 30, 40, 50 })
        {
            await SaveAndCommitAsync(step, worldSize: 1);
        }

        IReadOnlyList<long> deleted = await CheckpointRetention.ApplyAsync(Store, Job, new CheckpointRetentionPolicy(keepLast: 2, keepEvery: 20));

        Assert.Equal(new long[] { 10, 30 }, deleted);
        Assert.Equal(new long[] { 20, 40, 50 }, (await CheckpointCatalog.ListAsync(Store, Job)).Select(f => f.Step));
        Assert.Equal(50, (await CheckpointCatalog.FindNewestVerifiedAsync(Store, Job)).Checkpoint!.Step);
    }

    [Fact]
    public async Task ApplyAsync_NewestCheckpointsCorrupt_KeepsNewestVerifiedOutsideKeepLast()
    {
        foreach (long step in new long[] { 10, 20, 30 })
        {
            await SaveAndCommitAsync(step, worldSize: 1);
        }

        await FlipByteAsync(CheckpointLayout.FileKey(Job, 20, "model-b.safetensors"), at: 0);
        await FlipByteAsync(CheckpointLayout.FileKey(Job, 30, "model-b.safetensors"), at: 0);

        IReadOnlyList<long> deleted = await CheckpointRetention.ApplyAsync(Store, Job, new CheckpointRetentionPolicy(keepLast: 1));

        Assert.Equal(new long[] { 20 }, deleted);
        Assert.Equal(10, (await CheckpointCatalog.FindNewestVerifiedAsync(Store, Job)).Checkpoint!.Step);
    }

    /// <summary>Simulates <paramref name="worldSize"/> ranks saving one step through <see cref="AsyncCheckpointSaver"/>, then commits.</summary>
    protected async Task<CheckpointCommitResult> SaveAndCommitAsync(long step, int worldSize, long generation = 3)
    {
        IReadOnlyList<CheckpointFileEntry> files = await UploadAsync(step, worldSize);
        return await CheckpointCommitter.CommitAsync(Store, Manifest(step, files, generation, worldSize));
    }

    protected async Task<IReadOnlyList<CheckpointFileEntry>> UploadAsync(long step, int worldSize)
    {
        var results = new List<RankSaveResult>();
        for (int rank = 0; rank < worldSize; rank++)
        {
            await using var saver = new AsyncCheckpointSaver(Store, Job, rank, worldSize);
            Task<RankSaveResult> saved = await saver.EnqueueAsync(Snapshot(step, rank));
            results.Add(await saved);
        }

        return results.SelectMany(r => r.Files).ToList();
    }

    protected CheckpointManifest Manifest(long step, IEnumerable<CheckpointFileEntry> files, long generation = 3, int worldSize = 1) =>
        CheckpointManifest.Create(Job, step, generation, worldSize, ConfigHash, "test", files);

    /// <summary>Replicated "tensor" files of distinct sizes (content depends on the step) plus one small per-rank file.</summary>
    protected static CheckpointSnapshot Snapshot(long step, int rank)
    {
        static byte[] Bytes(int size, long seed)
        {
            var b = new byte[size];
            new Random((int)seed).NextBytes(b);
            return b;
        }

        return new CheckpointSnapshot(
            step,
            [
                new SnapshotFile("model-a.safetensors", Bytes(20_000, step)),
                new SnapshotFile("model-b.safetensors", Bytes(12_000, step + 1)),
                new SnapshotFile("optimizer.safetensors", Bytes(3_000, step + 2)),
            ],
            [new SnapshotFile("state.json", Encoding.UTF8.GetBytes($"rank {rank} at step {step}"))]);
    }

    /// <summary>Rewrites a blob with one byte changed: same size, different SHA-256 (bit rot, or a torn write that kept the length).</summary>
    protected async Task FlipByteAsync(string key, int at)
    {
        byte[] bytes = await ReadBytesAsync(key);
        bytes[at] ^= 0x40;
        await Store.PutAsync(key, new MemoryStream(bytes));
    }

    protected async Task<byte[]> ReadBytesAsync(string key)
    {
        await using BlobDownload? download = await Store.OpenReadAsync(key);
        using var buffer = new MemoryStream();
        await download!.Content.CopyToAsync(buffer);
        return buffer.ToArray();
    }

    protected async Task<string> ReadTextAsync(string key) => Encoding.UTF8.GetString(await ReadBytesAsync(key));

    protected async Task<List<string>> ListKeysAsync(string prefix)
    {
        var keys = new List<string>();
        await foreach (BlobProperties p in Store.ListAsync(prefix))
        {
            keys.Add(p.Key);
        }

        return keys;
    }

    /// <summary>Serves <c>failAfter</c> bytes, then fails like a producer that died (a crashed snapshot, a broken pipe).</summary>
    protected sealed class DyingStream(byte[] data, int failAfter) : Stream
    {
        private int _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (_position >= failAfter)
            {
                throw new IOException("The producer died mid-file.");
            }

            int n = Math.Min(Math.Min(count, failAfter - _position), data.Length - _position);
            Array.Copy(data, _position, buffer, offset, n);
            _position += n;
            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
