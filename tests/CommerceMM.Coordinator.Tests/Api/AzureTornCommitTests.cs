using CommerceMM.Storage.Blobs;
using CommerceMM.Storage.Tests.Azure;

namespace CommerceMM.Coordinator.Tests.Api;

/// <summary>
/// The torn commits on Azure Blob Storage (a real Azurite server on 127.0.0.1, a new container per test): its
/// conditional writes, listings and reads are other code than the file store's, and the store a preempted job on
/// Kubernetes restores from.
/// </summary>
public sealed class AzureTornCommitTests(AzuriteFixture azurite) : TornCommitTests, IClassFixture<AzuriteFixture>
{
    protected override async Task<IBlobStore?> CreateStoreAsync() => await azurite.CreateStoreWithNewContainerAsync();
}
