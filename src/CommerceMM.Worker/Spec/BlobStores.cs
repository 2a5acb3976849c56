using CommerceMM.Storage.Azure;
using CommerceMM.Storage.Blobs;
using CommerceMM.Storage.FileSystem;

namespace CommerceMM.Worker.Spec;

/// <summary>
/// Opens the blob store a spec names. Azure settings come only from the environment (AzureBlobStoreEnvironment:
/// a connection string, SAS, account key or managed identity); the container is the spec's checkpoint.container.
/// </summary>
public static class BlobStores
{
    public const string FileScheme = "file:", AzureScheme = "azure:";

    /// <summary>The usual Azure credential (the others are listed in <see cref="AzureBlobStoreEnvironment"/>).</summary>
    public const string AzureConnectionVariable = AzureBlobStoreEnvironment.ConnectionStringVariable;

    /// <summary>The store, not yet contacted. Prefer <see cref="OpenVerifiedAsync"/> where a bad setting should stop a start.</summary>
    /// <exception cref="SpecException">Missing or malformed Azure settings (checkpoint.store), or a bad container name (checkpoint.container).</exception>
    public static IBlobStore Open(CheckpointSection checkpoint)
    {
        if (checkpoint.Store.StartsWith(FileScheme, StringComparison.Ordinal))
            return new FileBlobStore(Path.GetFullPath(checkpoint.Store[FileScheme.Length..]));
        try
        {
            // "checkpoint.container": errors about the container name the spec key, not an option of the library.
            return AzureBlobStore.FromEnvironment(checkpoint.Container, "checkpoint.container");
        }
        catch (FormatException e)
        {
            throw new SpecException("checkpoint.store", $"azure: {e.Message}", e);
        }
        catch (ArgumentException e)
        {
            bool container = e.Message.Contains("checkpoint.container", StringComparison.Ordinal);
            throw new SpecException(container ? "checkpoint.container" : "checkpoint.store", e.Message, e);
        }
    }

    /// <summary>
    /// The store, checked once before anything relies on it: for Azure, that the endpoint answers, the credential is
    /// accepted and the container exists (with few retries), so a wrong setting fails the start with one error naming it
    /// instead of surfacing at the first checkpoint. The file store needs no check.
    /// </summary>
    /// <exception cref="BlobStoreException">Azure refused or could not be reached; the message names the setting at fault.</exception>
    public static async Task<IBlobStore> OpenVerifiedAsync(CheckpointSection checkpoint, CancellationToken cancellationToken = default)
    {
        var store = Open(checkpoint);
        if (store is AzureBlobStore azure) await azure.VerifyAsync(cancellationToken).ConfigureAwait(false);
        return store;
    }

    /// <summary>"file:runs (/abs/runs)" or "azure: container 'x' at https://…": where a store is, for messages (never a secret).</summary>
    public static string Describe(CheckpointSection checkpoint, IBlobStore store) => store switch
    {
        FileBlobStore file => $"{checkpoint.Store} ({file.Root})",
        AzureBlobStore azure => $"{AzureScheme} container '{azure.Container}' ({azure})",
        _ => checkpoint.Store,
    };
}
