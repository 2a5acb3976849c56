using CommerceMM.Storage.Azure;
using CommerceMM.Storage.Blobs;

namespace CommerceMM.Storage.Tests.Azure;

/// <summary>The shared blob-store behaviour against <see cref="AzureBlobStore"/> on a real Azurite server.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class AzureBlobStoreTests(AzuriteFixture azurite) : Blobs.BlobStoreContractTests, IAsyncLifetime
{
    private AzureBlobStore? _store;

    protected override IBlobStore Store => _store!;

    public async Task InitializeAsync() => _store = await azurite.CreateStoreWithNewContainerAsync();

    public Task DisposeAsync() => Task.CompletedTask;
}
