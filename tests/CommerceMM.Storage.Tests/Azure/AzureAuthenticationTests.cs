using System.Text;
using CommerceMM.Storage.Azure;
using CommerceMM.Storage.Blobs;
using global::Azure;
using global::Azure.Storage;

namespace CommerceMM.Storage.Tests.Azure;

/// <summary>Shared Key, SAS and connection strings against real Azurite, and the errors a wrong credential or container gives.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class AzureAuthenticationTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private static readonly StorageSharedKeyCredential DevAccount =
        new(AzureStorageConnectionString.DevelopmentAccountName, AzureStorageConnectionString.DevelopmentAccountKey);

    private AzureBlobStore? _owner;

    public async Task InitializeAsync() => _owner = await azurite.CreateStoreWithNewContainerAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task PutAsync_WrongAccountKey_Throws403NamingTheCauseButNotTheKey()
    {
        string wrongKey = Convert.ToBase64String(Encoding.ASCII.GetBytes("this is not the account key at all"));
        AzureBlobStore store = azurite.CreateStore(_owner!.Container, o =>
        {
            o.SharedKey = new StorageSharedKeyCredential(AzureStorageConnectionString.DevelopmentAccountName, wrongKey);
            o.MaxRetries = 0;
        });

        BlobStoreException e = await Assert.ThrowsAsync<BlobStoreException>(() => store.PutAsync("k", new MemoryStream([1])));

        Assert.Equal(403, e.Status);
        Assert.False(e.IsTransient);
        Assert.Contains("account name and key", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(wrongKey, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AllOperations_MissingContainer_ThrowNamingTheContainer()
    {
        AzureBlobStore store = azurite.CreateStore("no-such-container");

        BlobStoreException put = await Assert.ThrowsAsync<BlobStoreException>(() => store.PutAsync("k", new MemoryStream([1])));
        BlobStoreException head = await Assert.ThrowsAsync<BlobStoreException>(() => store.GetPropertiesAsync("k"));
        await Assert.ThrowsAsync<BlobStoreException>(() => store.OpenReadAsync("k"));
        await Assert.ThrowsAsync<BlobStoreException>(() => store.DeleteAsync("k"));

        Assert.Contains("'no-such-container'", put.Message, StringComparison.Ordinal);
        Assert.Contains("does not exist", put.Message, StringComparison.Ordinal);
        Assert.Equal(404, head.Status);
    }

    [Fact]
    public async Task PutAsync_ValidAccountSas_WritesAndReads()
    {
        string sas = AccountSas.Create(DevAccount, DateTimeOffset.UtcNow.AddHours(1));
        AzureBlobStore store = azurite.CreateStore(_owner!.Container, o =>
        {
            o.SharedKey = null;
            o.Sas = new AzureSasCredential(sas);
        });

        BlobWriteResult written = await store.PutAsync("sas/blob", new MemoryStream(new byte[200_000]), BlobCondition.IfNoneMatchAny);
        List<BlobProperties> listed = await ToListAsync(store.ListAsync("sas/"));

        Assert.True(written.Succeeded);
        Assert.Equal(200_000, Assert.Single(listed).Size);
        Assert.Equal(written.ETag, (await _owner.GetPropertiesAsync("sas/blob"))!.ETag);
    }

    [Fact]
    public async Task PutAsync_ExpiredSas_ThrowsSayingTheSasWasRefusedWithoutTheSignature()
    {
        string sas = AccountSas.Create(DevAccount, DateTimeOffset.UtcNow.AddHours(-1));
        AzureBlobStore store = azurite.CreateStore(_owner!.Container, o =>
        {
            o.SharedKey = null;
            o.Sas = new AzureSasCredential(sas);
            o.MaxRetries = 0;
        });

        BlobStoreException e = await Assert.ThrowsAsync<BlobStoreException>(() => store.PutAsync("k", new MemoryStream([1])));

        Assert.Equal(403, e.Status);
        Assert.Contains("SAS token was refused", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("sig=", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("sig=", store.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task FromConnectionString_ExplicitBlobEndpointAndKey_TalksToAzurite()
    {
        string connectionString =
            $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={AzureStorageConnectionString.DevelopmentAccountKey};BlobEndpoint={azurite.ServiceUri};";
        AzureBlobStore store = AzureBlobStore.FromConnectionString(connectionString, _owner!.Container);

        BlobWriteResult written = await store.PutAsync("cs/blob", new MemoryStream([1, 2, 3]));

        Assert.True(written.Succeeded);
        Assert.Equal(3, (await _owner.GetPropertiesAsync("cs/blob"))!.Size);
    }

    private static async Task<List<T>> ToListAsync<T>(IAsyncEnumerable<T> items)
    {
        var list = new List<T>();
        await foreach (T item in items)
        {
            list.Add(item);
        }

        return list;
    }
}
