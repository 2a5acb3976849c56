using CommerceMM.Storage.Blobs;

namespace CommerceMM.Coordinator.Tests.Api;

/// <summary>The torn commits on the file store, the embedded default.</summary>
public sealed class FileTornCommitTests : TornCommitTests
{
    protected override Task<IBlobStore?> CreateStoreAsync() => Task.FromResult<IBlobStore?>(null);
}
