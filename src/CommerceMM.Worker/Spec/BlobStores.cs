using CommerceMM.Storage.Azure;
using CommerceMM.Storage.Blobs;
using CommerceMM.Storage.FileSystem;

namespace CommerceMM.Worker.Spec;

/// <summary>Opens the blob store a spec names. Azure credentials come only from the environment.</summary>
public static class BlobStores
{
    public const string AzureConnectionVariable = "CMM_AZURE_CONNECTION_STRING";

    public static IBlobStore Open(CheckpointSection checkpoint)
    {
        if (checkpoint.Store.StartsWith("file:", StringComparison.Ordinal))
            return new FileBlobStore(Path.GetFullPath(checkpoint.Store["file:".Length..]));
        string connection = Environment.GetEnvironmentVariable(AzureConnectionVariable)
            ?? throw new SpecException("checkpoint.store", $"azure: needs the connection string in {AzureConnectionVariable}");
        return AzureBlobStore.FromConnectionString(connection, checkpoint.Container);
    }
}
