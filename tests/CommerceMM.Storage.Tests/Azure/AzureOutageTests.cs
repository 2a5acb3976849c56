using System.Security.Cryptography;
using CommerceMM.Storage.Azure;
using CommerceMM.Storage.Blobs;

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
}
