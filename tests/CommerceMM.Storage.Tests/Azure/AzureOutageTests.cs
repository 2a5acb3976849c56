using System.Security.Cryptography;
using CommerceMM.Storage.Azure;
using CommerceMM.Storage.Blobs;
using CommerceMM.Storage.Checkpoints;
using global::Azure.Storage;

namespace CommerceMM.Storage.Tests.Azure;

/// <summary>Transient failures against a real server: Azurite stopped mid-upload and restarted. Uses its own server, since it stops it.</summary>
public sealed class AzureOutageTests : IAsyncLifetime
{
    private readonly AzuriteServer _server = new();

    public Task InitializeAsync() => _server.StartAsync();

    public Task DisposeAsync() => _server.DisposeAsync().AsTask();

    [Fact]
    public async Task PutAsync_ServerStoppedMidUploadThenRestarted_CompletesAfterRetries()
    {
        var fixture = new AzuriteServerStores(_server);
        AzureBlobStore store = fixture.Create(o =>
        {
            o.MaxRetries = 30;
            o.RetryDelay = TimeSpan.FromMilliseconds(100);
            o.MaxRetryDelay = TimeSpan.FromSeconds(1);
        });
        await store.CreateContainerIfNotExistsAsync();
        byte[] data = new byte[640 * 1024];
        new Random(3).NextBytes(data);
        var source = new GatedStream(data, gateAt: 256 * 1024);

        Task<BlobWriteResult> upload = store.PutAsync("outage/blob", source, BlobCondition.IfNoneMatchAny);
        await source.Reached;
        await _server.StopAsync();
        source.Open(); // the remaining blocks now meet a dead server and retry
        await Task.Delay(TimeSpan.FromSeconds(2));
        await _server.RestartAsync();
        BlobWriteResult result = await upload;

        Assert.True(result.Succeeded);
        await using BlobDownload? download = await store.OpenReadAsync("outage/blob");
        Assert.Equal(SHA256.HashData(data), await SHA256.HashDataAsync(download!.Content));
    }

    [Fact]
    public async Task CommitAsync_ServerStoppedWhenTheSaveStarts_CheckpointCommitsAfterRetries()
    {
        AzureBlobStore store = new AzuriteServerStores(_server).Create(o =>
        {
            o.MaxRetries = 30;
            o.RetryDelay = TimeSpan.FromMilliseconds(100);
            o.MaxRetryDelay = TimeSpan.FromSeconds(1);
        });
        await store.CreateContainerIfNotExistsAsync();
        Task? restart = null;
        var outage = new OutageOnFirstWrite(store, async () =>
        {
            await _server.StopAsync();
            restart = Task.Run(async () =>
            {
                await Task.Delay(TimeSpan.FromSeconds(2));
                await _server.RestartAsync();
            });
        });
        byte[] weights = new byte[300_000];
        new Random(5).NextBytes(weights);

        await using var saver = new AsyncCheckpointSaver(outage, "job", 0, 1);
        RankSaveResult saved = await await saver.EnqueueAsync(new CheckpointSnapshot(7, [new SnapshotFile("model.safetensors", weights)], []));
        CheckpointCommitResult committed = await CheckpointCommitter.CommitAsync(store, CheckpointManifest.Create("job", 7, 1, 1, "c", "v", saved.Files));
        await restart!;

        Assert.True(committed.Succeeded, committed.Message);
        Assert.Equal(7, (await CheckpointCatalog.FindNewestVerifiedAsync(store, "job")).Checkpoint!.Step);
    }

    [Fact]
    public async Task PutAsync_ServerStoppedMidUploadForGood_ThrowsTransientErrorAndLeavesNothingVisible()
    {
        AzureBlobStore store = new AzuriteServerStores(_server).Create(o =>
        {
            o.MaxRetries = 2;
            o.RetryDelay = TimeSpan.FromMilliseconds(50);
            o.MaxRetryDelay = TimeSpan.FromMilliseconds(100);
        });
        await store.CreateContainerIfNotExistsAsync();
        byte[] data = new byte[640 * 1024];
        new Random(4).NextBytes(data);
        var source = new GatedStream(data, gateAt: 256 * 1024);

        Task<BlobWriteResult> upload = store.PutAsync("dead/blob", source, BlobCondition.IfNoneMatchAny);
        await source.Reached;
        await _server.StopAsync();
        source.Open();
        BlobStoreException e = await Assert.ThrowsAsync<BlobStoreException>(() => upload);
        await _server.RestartAsync();

        Assert.True(e.IsTransient);
        Assert.Contains("'outage'", e.Message, StringComparison.Ordinal);
        Assert.Null(await store.GetPropertiesAsync("dead/blob"));
        Assert.True((await store.PutAsync("dead/blob", new MemoryStream(data), BlobCondition.IfNoneMatchAny)).Succeeded);
    }

    [Fact]
    public async Task FindNewestVerifiedAsync_ServerStoppedMidCheckpointUpload_SaveFailsAndThePreviousCheckpointIsRestored()
    {
        AzureBlobStore store = new AzuriteServerStores(_server).Create(o =>
        {
            o.MaxRetries = 2;
            o.RetryDelay = TimeSpan.FromMilliseconds(50);
            o.MaxRetryDelay = TimeSpan.FromMilliseconds(100);
        });
        await store.CreateContainerIfNotExistsAsync();
        byte[] weights = new byte[300_000];
        new Random(6).NextBytes(weights);
        await SaveAndCommitAsync(store, store, step: 10, weights);

        // Step 20: the server goes away after the first file is written, mid-save, and stays away past the retries.
        var outage = new OutageOnWrite(store, after: 1, () => _server.StopAsync());
        await Assert.ThrowsAnyAsync<Exception>(() => SaveAndCommitAsync(outage, store, step: 20, weights));
        await _server.RestartAsync();
        RestoreSelection restore = await CheckpointCatalog.FindNewestVerifiedAsync(store, "job");

        Assert.Equal(10, (await CheckpointCommitter.ReadLatestAsync(store, "job"))!.Value.Pointer.Step);
        Assert.Equal(10, restore.Checkpoint!.Step);
        Assert.Equal(20, Assert.Single(restore.Skipped).Step);
    }

    [Fact]
    public async Task PutAsync_ServerDownBeyondRetries_ThrowsTransientBlobStoreExceptionNamingEndpoint()
    {
        AzureBlobStore store = new AzuriteServerStores(_server).Create(o =>
        {
            o.MaxRetries = 2;
            o.RetryDelay = TimeSpan.FromMilliseconds(10);
            o.MaxRetryDelay = TimeSpan.FromMilliseconds(20);
        });
        await _server.StopAsync();

        BlobStoreException e = await Assert.ThrowsAsync<BlobStoreException>(() => store.PutAsync("k", new MemoryStream([1])));

        Assert.True(e.IsTransient);
        Assert.Contains($"127.0.0.1:{_server.Port}", e.Message, StringComparison.Ordinal);
        Assert.Contains("after 2 retries", e.Message, StringComparison.Ordinal);
    }

    private static async Task SaveAndCommitAsync(IBlobStore writer, IBlobStore committer, long step, byte[] weights)
    {
        await using var saver = new AsyncCheckpointSaver(writer, "job", 0, 1, new AsyncCheckpointSaverOptions { UploadParallelism = 1 });
        RankSaveResult saved = await await saver.EnqueueAsync(new CheckpointSnapshot(
            step,
            [new SnapshotFile("model.safetensors", weights), new SnapshotFile("optimizer.safetensors", weights)],
            [new SnapshotFile("state.json", new byte[] { 1, 2, 3 })]));
        CheckpointCommitResult committed = await CheckpointCommitter.CommitAsync(committer, CheckpointManifest.Create("job", step, 1, 1, "c", "v", saved.Files));
        Assert.True(committed.Succeeded, committed.Message);
    }

    /// <summary>Stores on a private server (the shared fixture's helper, minus the shared server).</summary>
    private sealed class AzuriteServerStores(AzuriteServer server)
    {
        public AzureBlobStore Create(Action<AzureBlobStoreOptions> configure)
        {
            var options = new AzureBlobStoreOptions
            {
                ServiceUri = server.ServiceUri,
                Container = "outage",
                SharedKey = new StorageSharedKeyCredential(AzureStorageConnectionString.DevelopmentAccountName, AzureStorageConnectionString.DevelopmentAccountKey),
                BlockSize = 64 * 1024,
            };
            configure(options);
            return new AzureBlobStore(options);
        }
    }

    /// <summary>A real store that runs <c>outage</c> once, just before write number <c>after</c> + 1 goes out.</summary>
    private sealed class OutageOnWrite(IBlobStore inner, int after, Func<Task> outage) : IBlobStore
    {
        private int _writes;

        public async Task<BlobWriteResult> PutAsync(string key, Stream content, BlobCondition condition = default, CancellationToken cancellationToken = default)
        {
            if (Interlocked.Increment(ref _writes) == after + 1)
            {
                await outage();
            }

            return await inner.PutAsync(key, content, condition, cancellationToken);
        }

        public Task<BlobDownload?> OpenReadAsync(string key, BlobRange? range = null, string? expectedSha256 = null, CancellationToken cancellationToken = default) => inner.OpenReadAsync(key, range, expectedSha256, cancellationToken);

        public Task<BlobProperties?> GetPropertiesAsync(string key, CancellationToken cancellationToken = default) => inner.GetPropertiesAsync(key, cancellationToken);

        public IAsyncEnumerable<BlobProperties> ListAsync(string prefix, CancellationToken cancellationToken = default) => inner.ListAsync(prefix, cancellationToken);

        public Task<bool> DeleteAsync(string key, CancellationToken cancellationToken = default) => inner.DeleteAsync(key, cancellationToken);
    }

    /// <summary>A real store that runs <c>outage</c> just before its first write goes out, so that write meets a stopped server.</summary>
    private sealed class OutageOnFirstWrite(IBlobStore inner, Func<Task> outage) : IBlobStore
    {
        private int _writes;

        public async Task<BlobWriteResult> PutAsync(string key, Stream content, BlobCondition condition = default, CancellationToken cancellationToken = default)
        {
            if (Interlocked.Increment(ref _writes) == 1)
            {
                await outage();
            }

            return await inner.PutAsync(key, content, condition, cancellationToken);
        }

        public Task<BlobDownload?> OpenReadAsync(string key, BlobRange? range = null, string? expectedSha256 = null, CancellationToken cancellationToken = default) => inner.OpenReadAsync(key, range, expectedSha256, cancellationToken);

        public Task<BlobProperties?> GetPropertiesAsync(string key, CancellationToken cancellationToken = default) => inner.GetPropertiesAsync(key, cancellationToken);

        public IAsyncEnumerable<BlobProperties> ListAsync(string prefix, CancellationToken cancellationToken = default) => inner.ListAsync(prefix, cancellationToken);

        public Task<bool> DeleteAsync(string key, CancellationToken cancellationToken = default) => inner.DeleteAsync(key, cancellationToken);
    }
}
