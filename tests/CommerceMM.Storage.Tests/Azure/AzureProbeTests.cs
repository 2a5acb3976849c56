using System.Net;
using System.Net.Sockets;
using CommerceMM.Storage.Azure;
using CommerceMM.Storage.Blobs;

namespace CommerceMM.Storage.Tests.Azure;

/// <summary>
/// Wrong settings against real Azurite: one clear error naming the setting at fault, after a bounded number of attempts
/// (counted, not timed), whatever the configured retries for normal operations.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class AzureProbeTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private AzureBlobStore? _owner;

    public async Task InitializeAsync() => _owner = await azurite.CreateStoreWithNewContainerAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task VerifyAsync_UnreachableEndpoint_OneTransientErrorNamingTheSettingAfterTheProbesRetriesOnly()
    {
        int closedPort = ClosedPort();
        var attempts = new CountingPolicy();
        AzureBlobStore store = AzureBlobStore.FromEnvironment(
            "ckpt",
            "checkpoint.container",
            Environment(("CMM_AZURE_CONNECTION_STRING", ConnectionString($"http://127.0.0.1:{closedPort}/devstoreaccount1", AzureStorageConnectionString.DevelopmentAccountKey))));
        store = Rebuild(store, o =>
        {
            o.PerRetryPolicy = attempts;
            o.RetryDelay = TimeSpan.FromMilliseconds(20);
        });

        BlobStoreException e = await Assert.ThrowsAsync<BlobStoreException>(() => store.PutAsync("k", new MemoryStream([1])));

        Assert.True(e.IsTransient);
        Assert.Equal(1 + AzureBlobStoreOptions.DefaultProbeMaxRetries, attempts.Attempts); // not 1 + MaxRetries (8)
        Assert.Contains($"127.0.0.1:{closedPort}", e.Message, StringComparison.Ordinal);
        Assert.Contains("CMM_AZURE_CONNECTION_STRING (BlobEndpoint)", e.Message, StringComparison.Ordinal);
        Assert.Contains($"after {AzureBlobStoreOptions.DefaultProbeMaxRetries} retries", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AllOperations_WrongKeyFromEnvironment_OneErrorNamingTheVariableNotTheKey()
    {
        string wrongKey = Convert.ToBase64String(new byte[64]);
        var attempts = new CountingPolicy();
        AzureBlobStore store = Rebuild(
            AzureBlobStore.FromEnvironment(
                _owner!.Container,
                "checkpoint.container",
                Environment(("CMM_AZURE_BLOB_ENDPOINT", azurite.ServiceUri.ToString()), ("CMM_AZURE_ACCOUNT_KEY", wrongKey))),
            o => o.PerRetryPolicy = attempts);

        BlobStoreException put = await Assert.ThrowsAsync<BlobStoreException>(() => store.PutAsync("k", new MemoryStream([1])));
        BlobStoreException list = await Assert.ThrowsAsync<BlobStoreException>(() => store.ListAsync("").GetAsyncEnumerator().MoveNextAsync().AsTask());

        Assert.Equal(2, attempts.Attempts); // one probe per call, no retries of a 403
        Assert.Equal((403, false), (put.Status, put.IsTransient));
        Assert.Contains("CMM_AZURE_ACCOUNT_KEY (account 'devstoreaccount1')", put.Message, StringComparison.Ordinal);
        Assert.Contains("account name and key", list.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(wrongKey, put.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task VerifyAsync_UnknownContainer_NamesTheContainerAndItsSetting()
    {
        AzureBlobStore store = AzureBlobStore.FromEnvironment(
            "no-such-container",
            "checkpoint.container",
            Environment(("CMM_AZURE_CONNECTION_STRING", ConnectionString(azurite.ServiceUri.ToString(), AzureStorageConnectionString.DevelopmentAccountKey))));

        BlobStoreException e = await Assert.ThrowsAsync<BlobStoreException>(() => store.VerifyAsync());

        Assert.Equal((404, "ContainerNotFound"), (e.Status, e.ErrorCode));
        Assert.Contains("'no-such-container'", e.Message, StringComparison.Ordinal);
        Assert.Contains("(checkpoint.container)", e.Message, StringComparison.Ordinal);
        Assert.Contains("`az storage container create --name no-such-container`", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task VerifyAsync_Succeeded_IsNeverRepeated()
    {
        var attempts = new CountingPolicy();
        AzureBlobStore store = azurite.CreateStore(_owner!.Container, o => o.PerRetryPolicy = attempts);

        await store.VerifyAsync();
        await store.VerifyAsync();
        await store.PutAsync("a", new MemoryStream([1]));

        Assert.True(attempts.Attempts == 2, string.Join("; ", attempts.Requests)); // one probe, one Put Blob
    }

    [Fact]
    public async Task VerifyAsync_FailedProbe_IsTriedAgainByTheNextCall()
    {
        string container = $"c{Guid.NewGuid():N}";
        AzureBlobStore store = azurite.CreateStore(container);
        await Assert.ThrowsAsync<BlobStoreException>(() => store.VerifyAsync());

        await azurite.CreateStore(container).CreateContainerIfNotExistsAsync();

        await store.VerifyAsync();
        Assert.True((await store.PutAsync("k", new MemoryStream([1]))).Succeeded);
    }

    private static Func<string, string?> Environment(params (string Name, string Value)[] variables) =>
        name => variables.FirstOrDefault(v => v.Name == name).Value;

    private static string ConnectionString(string endpoint, string key) =>
        $"DefaultEndpointsProtocol=http;AccountName={AzureStorageConnectionString.DevelopmentAccountName};AccountKey={key};BlobEndpoint={endpoint};";

    /// <summary>The same options with test hooks set.</summary>
    private static AzureBlobStore Rebuild(AzureBlobStore store, Action<AzureBlobStoreOptions> configure)
    {
        AzureBlobStoreOptions options = store.Options;
        configure(options);
        return new AzureBlobStore(options);
    }

    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port; // closed again when the listener is disposed
    }
}
