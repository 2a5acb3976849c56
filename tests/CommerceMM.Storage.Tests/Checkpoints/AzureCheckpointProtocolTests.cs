using CommerceMM.Storage.Azure;
using CommerceMM.Storage.Blobs;
using CommerceMM.Storage.Tests.Azure;

namespace CommerceMM.Storage.Tests.Checkpoints;

[Collection(AzuriteCollection.Name)]
public sealed class AzureCheckpointProtocolTests(AzuriteFixture azurite) : CheckpointProtocolTests, IAsyncLifetime
{
    private AzureBlobStore? _store;

    protected override IBlobStore Store => _store!;

    public async Task InitializeAsync() => _store = await azurite.CreateStoreWithNewContainerAsync(o => o.ListPageSize = 5000);

    public Task DisposeAsync() => Task.CompletedTask;
}
