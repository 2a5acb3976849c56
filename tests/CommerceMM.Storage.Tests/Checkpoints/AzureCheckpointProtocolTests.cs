using CommerceMM.Storage.Azure;
using CommerceMM.Storage.Blobs;
using CommerceMM.Storage.Checkpoints;
using CommerceMM.Storage.Tests.Azure;

namespace CommerceMM.Storage.Tests.Checkpoints;

[Collection(AzuriteCollection.Name)]
public sealed class AzureCheckpointProtocolTests(AzuriteFixture azurite) : CheckpointProtocolTests, IAsyncLifetime
{
    private AzureBlobStore? _store;

    protected override IBlobStore Store => _store!;

    public async Task InitializeAsync() => _store = await azurite.CreateStoreWithNewContainerAsync(o => o.ListPageSize = 5000);

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task FindNewestVerifiedAsync_ByteRottedInsideAzurite_SkipsItNamingTheKeyAndRestoresThePrevious()
    {
        // Step 37: file contents are seeded by the step, and no other test writes step 37, so its bytes are unique on the server.
        await SaveAndCommitAsync(step: 10, worldSize: 1);
        await SaveAndCommitAsync(step: 37, worldSize: 1);
        string key = CheckpointLayout.FileKey(Job, 37, "model-a.safetensors");
        byte[] stored = await ReadBytesAsync(key);
        azurite.Server.FlipStoredByte(stored[..64]); // behind the store's back: same size, same ETag

        RestoreSelection restore = await CheckpointCatalog.FindNewestVerifiedAsync(Store, Job, ConfigHash);

        Assert.Equal(10, restore.Checkpoint!.Step);
        SkippedCheckpoint skipped = Assert.Single(restore.Skipped);
        Assert.Equal(37, skipped.Step);
        Assert.Contains($"file 'model-a.safetensors': Azure Blob Storage: blob '{key}'", skipped.Reason, StringComparison.Ordinal);
        Assert.Contains("failed MD5 validation", skipped.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FindNewestVerifiedAsync_ManifestRottedInsideAzurite_SkipsItAsCorrupt()
    {
        await SaveAndCommitAsync(step: 10, worldSize: 1);
        await SaveAndCommitAsync(step: 20, worldSize: 1);
        byte[] manifest = await ReadBytesAsync(CheckpointLayout.ManifestKey(Job, 20));
        azurite.Server.FlipStoredByte(manifest); // the whole manifest: its first bytes are the same in every step

        RestoreSelection restore = await CheckpointCatalog.FindNewestVerifiedAsync(Store, Job, ConfigHash);

        Assert.Equal(10, restore.Checkpoint!.Step);
        Assert.Contains("manifest.json is corrupt", Assert.Single(restore.Skipped).Reason, StringComparison.Ordinal);
    }
}
