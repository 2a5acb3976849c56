namespace CommerceMM.Storage.Azure;

/// <summary>
/// azure:CONTAINER/PATH, how a data set in Azure Blob Storage is named (data.dir, and cmm data push, pull and inspect):
/// the container, and the folder under it that holds dataset.json. Credentials come from the environment, as for
/// checkpoints (<see cref="AzureBlobStoreEnvironment"/>).
/// </summary>
public static class AzureFolder
{
    public const string Scheme = "azure:";

    public static bool IsAzure(string location) => location.StartsWith(Scheme, StringComparison.Ordinal);

    /// <summary>The store and key prefix ("PATH/", or "" for the container's root) of azure:CONTAINER/PATH; nothing is contacted yet.</summary>
    /// <exception cref="ArgumentException">No container named, or the Azure settings are incomplete or malformed; the message names <paramref name="location"/>.</exception>
    public static (AzureBlobStore Store, string Prefix) Open(string location)
    {
        string rest = location[Scheme.Length..].Trim('/');
        int slash = rest.IndexOf('/');
        string container = slash < 0 ? rest : rest[..slash], prefix = slash < 0 ? "" : rest[(slash + 1)..] + "/";
        if (container.Length == 0) throw new ArgumentException($"'{location}' names no container: use azure:CONTAINER/PATH, PATH being the folder that holds dataset.json");
        try
        {
            return (AzureBlobStore.FromEnvironment(container, $"the container in '{location}'"), prefix);
        }
        catch (FormatException e)
        {
            throw new ArgumentException($"'{location}': {e.Message}", e);
        }
    }
}
