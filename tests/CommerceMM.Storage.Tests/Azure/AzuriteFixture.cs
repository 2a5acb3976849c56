using CommerceMM.Storage.Azure;
using global::Azure.Storage;

namespace CommerceMM.Storage.Tests.Azure;

/// <summary>One Azurite server shared by the test classes of <see cref="AzuriteCollection"/>; each class uses its own container.</summary>
public sealed class AzuriteFixture : IAsyncLifetime
{
    internal AzuriteServer Server { get; } = new();

    public Uri ServiceUri => Server.ServiceUri;

    public Task InitializeAsync() => Server.StartAsync();

    public Task DisposeAsync() => Server.DisposeAsync().AsTask();

    /// <summary>A store on the development account with small blocks, ranges and pages, so tests exercise multi-block uploads, multi-range reads and list continuation cheaply.</summary>
    public AzureBlobStore CreateStore(string container, Action<AzureBlobStoreOptions>? configure = null)
    {
        var options = new AzureBlobStoreOptions
        {
            ServiceUri = ServiceUri,
            Container = container,
            SharedKey = new StorageSharedKeyCredential(AzureStorageConnectionString.DevelopmentAccountName, AzureStorageConnectionString.DevelopmentAccountKey),
            BlockSize = 64 * 1024,
            DownloadRangeSize = 1 << 20,
            ListPageSize = 2,
            RetryDelay = TimeSpan.FromMilliseconds(50),
            MaxRetryDelay = TimeSpan.FromSeconds(1),
        };
        configure?.Invoke(options);
        return new AzureBlobStore(options);
    }

    /// <summary>A new, created container name unique to the caller.</summary>
    public async Task<AzureBlobStore> CreateStoreWithNewContainerAsync(Action<AzureBlobStoreOptions>? configure = null)
    {
        AzureBlobStore store = CreateStore($"c{Guid.NewGuid():N}", configure);
        await store.CreateContainerIfNotExistsAsync();
        return store;
    }
}

[CollectionDefinition(Name)]
public sealed class AzuriteCollection : ICollectionFixture<AzuriteFixture>
{
    public const string Name = "Azurite";
}
