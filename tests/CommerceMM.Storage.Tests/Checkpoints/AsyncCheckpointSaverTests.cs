using CommerceMM.Storage.Checkpoints;
using CommerceMM.Storage.FileSystem;

namespace CommerceMM.Storage.Tests.Checkpoints;

public sealed class AsyncCheckpointSaverTests : IDisposable
{
    private readonly TempDirectory _root = new();
    private readonly FileBlobStore _store;

    public AsyncCheckpointSaverTests()
    {
        _store = new FileBlobStore(_root.Path);
    }

    public void Dispose() => _root.Dispose();

    [Fact]
    public async Task EnqueueAsync_UploadBlocked_ReturnsBeforeTheUploadFinishes()
    {
        var gated = new GatedBlobStore(_store);
        await using var saver = new AsyncCheckpointSaver(gated, "job", 0, 1);

        Task<RankSaveResult> saved = await saver.EnqueueAsync(Snapshot(1));

        Assert.False(saved.IsCompleted);
        gated.Open();
        RankSaveResult result = await saved;
        Assert.Equal(2, result.Files.Count);
    }

    [Fact]
    public async Task EnqueueAsync_QueueFull_WaitsUntilAnUploadFinishes()
    {
        var gated = new GatedBlobStore(_store);
        await using var saver = new AsyncCheckpointSaver(gated, "job", 0, 1, new AsyncCheckpointSaverOptions { MaxQueuedSaves = 1 });
        Task<RankSaveResult> first = await saver.EnqueueAsync(Snapshot(1));
        // The worker may not have taken the first save off the queue yet; wait until the second is accepted either way.
        ValueTask<Task<RankSaveResult>> second = saver.EnqueueAsync(Snapshot(2));
        Task<RankSaveResult> secondQueued = await second;

        ValueTask<Task<RankSaveResult>> third = saver.EnqueueAsync(Snapshot(3));

        Assert.False(third.IsCompleted);
        gated.Open();
        await Task.WhenAll(first, secondQueued, await third);
    }

    [Fact]
    public async Task EnqueueAsync_StepAlreadyCommitted_FaultsThatSaveButNotTheNext()
    {
        await using var saver = new AsyncCheckpointSaver(_store, "job", 0, 1);
        RankSaveResult one = await await saver.EnqueueAsync(Snapshot(1));
        await CheckpointCommitter.CommitAsync(_store, CheckpointManifest.Create("job", 1, 0, 1, "c", "v", one.Files));

        Task<RankSaveResult> again = await saver.EnqueueAsync(Snapshot(1));
        Task<RankSaveResult> next = await saver.EnqueueAsync(Snapshot(2));

        CheckpointException e = await Assert.ThrowsAsync<CheckpointException>(() => again);
        Assert.Contains("already committed", e.Message, StringComparison.Ordinal);
        Assert.Equal(2, (await next).Step);
    }

    [Fact]
    public async Task Release_IsCalledWhenTheUploadEnds_BeforeItsOutcomeIsKnown_SucceededOrFailed()
    {
        var gated = new GatedBlobStore(_store);
        await using var saver = new AsyncCheckpointSaver(gated, "job", 0, 1);
        int released = 0;
        Task<RankSaveResult> saved = await saver.EnqueueAsync(Snapshot(1) with { Release = () => Interlocked.Increment(ref released) });

        await Task.Delay(100);
        Assert.Equal(0, Volatile.Read(ref released));   // the upload still reads the buffers
        gated.Open();
        await saved;
        Assert.Equal(1, Volatile.Read(ref released));

        // A refused save (its step already committed) gives its buffers back too.
        RankSaveResult one = await saved;
        await CheckpointCommitter.CommitAsync(_store, CheckpointManifest.Create("job", 1, 0, 1, "c", "v", one.Files));
        Task<RankSaveResult> again = await saver.EnqueueAsync(Snapshot(1) with { Release = () => Interlocked.Increment(ref released) });
        await Assert.ThrowsAsync<CheckpointException>(() => again);
        Assert.Equal(2, Volatile.Read(ref released));
    }

    [Fact]
    public async Task Fill_RunsBeforeTheUploadReadsTheFiles_AndAFailedFillFailsOnlyThatSave()
    {
        await using var saver = new AsyncCheckpointSaver(_store, "job", 0, 1);
        byte[] model = new byte[1000];
        var filled = Snapshot(1) with { Replicated = [new SnapshotFile("model.safetensors", model)], Fill = () => model.AsSpan().Fill(7) };
        RankSaveResult saved = await await saver.EnqueueAsync(filled);
        await using (var read = await _store.OpenReadAsync(CheckpointLayout.FileKey("job", 1, "model.safetensors")))
        {
            var bytes = new byte[1000];
            await read!.Content.ReadExactlyAsync(bytes);
            Assert.All(bytes, b => Assert.Equal(7, b));
        }

        int released = 0;
        var broken = Snapshot(2) with { Fill = () => throw new InvalidOperationException("the device copy failed"), Release = () => released++ };
        Task<RankSaveResult> failed = await saver.EnqueueAsync(broken);
        Task<RankSaveResult> next = await saver.EnqueueAsync(Snapshot(3));
        Assert.Equal("the device copy failed", (await Assert.ThrowsAsync<InvalidOperationException>(() => failed)).Message);
        Assert.Equal(1, released);
        Assert.Equal(3, (await next).Step);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public async Task EnqueueAsync_SeveralRanks_UploadEachReplicatedFileExactlyOnce(int worldSize)
    {
        var replicated = Enumerable.Range(0, 5).Select(i => new SnapshotFile($"w{i}.safetensors", new byte[100 * (i + 1)])).ToList();
        var results = new List<RankSaveResult>();
        for (int rank = 0; rank < worldSize; rank++)
        {
            await using var saver = new AsyncCheckpointSaver(_store, "job", rank, worldSize);
            results.Add(await await saver.EnqueueAsync(new CheckpointSnapshot(4, replicated, [new SnapshotFile("rng.bin", new byte[] { (byte)rank })])));
        }

        List<string> paths = results.SelectMany(r => r.Files).Select(f => f.Path).ToList();

        Assert.Equal(paths.Count, paths.Distinct().Count());
        Assert.Equal(replicated.Select(f => f.Path).Order(), paths.Where(p => p.StartsWith('w')).Order());
        Assert.Equal(Enumerable.Range(0, worldSize).Select(r => $"rank-{r:D5}/rng.bin"), paths.Where(p => p.StartsWith("rank-", StringComparison.Ordinal)).Order());
        Assert.All(results, r => Assert.Contains(r.Files, f => f.Path.StartsWith('w')));
    }

    [Fact]
    public async Task EnqueueAsync_InvalidPath_ThrowsImmediately()
    {
        await using var saver = new AsyncCheckpointSaver(_store, "job", 0, 1);

        await Assert.ThrowsAsync<ArgumentException>(async () => await saver.EnqueueAsync(new CheckpointSnapshot(1, [new SnapshotFile("../escape", new byte[1])], [])));
    }

    private static CheckpointSnapshot Snapshot(long step) =>
        new(step, [new SnapshotFile("model.safetensors", new byte[1000])], [new SnapshotFile("state.json", "{}"u8.ToArray())]);
}
