using global::Azure;

namespace CommerceMM.Storage.Azure;

/// <summary>Where and how <see cref="AzureBlobStore"/> talks to Azure Blob Storage (or Azurite).</summary>
public sealed class AzureBlobStoreOptions
{
    /// <summary>Default <see cref="BlockSize"/>: 8 MiB keeps a few blocks in flight per upload within modest memory.</summary>
    public const int DefaultBlockSize = 8 << 20;

    /// <summary>Default <see cref="MaxParallelBlocks"/>.</summary>
    public const int DefaultMaxParallelBlocks = 4;

    /// <summary>Default <see cref="ListPageSize"/>: the service's own maximum.</summary>
    public const int DefaultListPageSize = 5000;

    /// <summary>Default <see cref="MaxRetries"/>: with the default delays this rides out roughly 20 s of outage.</summary>
    public const int DefaultMaxRetries = 8;

    /// <summary>The REST API version sent as <c>x-ms-version</c>; old enough for every Azurite 3.x, new enough for all we use.</summary>
    public const string ServiceVersion = "2021-12-02";

    /// <summary>
    /// The blob service endpoint: <c>https://ACCOUNT.blob.core.windows.net</c>, or for Azurite the path-style
    /// <c>http://127.0.0.1:10000/devstoreaccount1</c>. No query string (a SAS goes in <see cref="Sas"/>).
    /// </summary>
    public Uri? ServiceUri { get; set; }

    /// <summary>The container holding every blob of this store.</summary>
    public string Container { get; set; } = "";

    /// <summary>Shared Key credentials; set exactly one of this and <see cref="Sas"/>.</summary>
    public StorageSharedKeyCredential? SharedKey { get; set; }

    /// <summary>A shared access signature (the query string, with or without '?'); set exactly one of this and <see cref="SharedKey"/>.</summary>
    public AzureSasCredential? Sas { get; set; }

    /// <value>Default <see cref="DefaultBlockSize"/>.</value>
    /// <remarks>A blob that fits in one block goes up in a single Put Blob; a larger one in blocks of this size.</remarks>
    public int BlockSize { get; set; } = DefaultBlockSize;

    /// <value>Default <see cref="DefaultMaxParallelBlocks"/>.</value>
    /// <remarks>Blocks of one upload in flight at once; memory use is about (this + 1) × <see cref="BlockSize"/>.</remarks>
    public int MaxParallelBlocks { get; set; } = DefaultMaxParallelBlocks;

    /// <value>Default <see cref="DefaultListPageSize"/>.</value>
    public int ListPageSize { get; set; } = DefaultListPageSize;

    /// <value>Default <see cref="DefaultMaxRetries"/>.</value>
    /// <remarks>Retries of one request after a transient failure (408, 429, 5xx, network); 0 disables retrying.</remarks>
    public int MaxRetries { get; set; } = DefaultMaxRetries;

    /// <value>Default 250 ms.</value>
    /// <remarks>First retry delay; it doubles per attempt, with jitter, up to <see cref="MaxRetryDelay"/>.</remarks>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <value>Default 5 s.</value>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <value>Default <see cref="TimeProvider.System"/>.</value>
    /// <remarks>Clock for request dates and retry delays.</remarks>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first bad option.</summary>
    public void Validate()
    {
        if (ServiceUri is null || !ServiceUri.IsAbsoluteUri || (ServiceUri.Scheme != Uri.UriSchemeHttp && ServiceUri.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException($"{nameof(AzureBlobStoreOptions)}.{nameof(ServiceUri)} must be an absolute http(s) URL.");
        }

        if (ServiceUri.Query.Length > 0)
        {
            // Most likely a SAS pasted into the URL; say so without printing it.
            throw new ArgumentException($"{nameof(AzureBlobStoreOptions)}.{nameof(ServiceUri)} must have no query string; pass a SAS token through {nameof(Sas)}.");
        }

        if (!IsValidContainerName(Container))
        {
            throw new ArgumentException(
                $"{nameof(AzureBlobStoreOptions)}.{nameof(Container)} '{Container}' is not a valid container name (3-63 characters: lower-case letters, digits, single hyphens, starting and ending with a letter or digit).");
        }

        if ((SharedKey is null) == (Sas is null))
        {
            throw new ArgumentException($"{nameof(AzureBlobStoreOptions)}: set exactly one of {nameof(SharedKey)} and {nameof(Sas)}.");
        }

        Require(BlockSize is >= 1024 and <= 1 << 30, nameof(BlockSize), "between 1 KiB and 1 GiB");
        Require(MaxParallelBlocks is >= 1 and <= 64, nameof(MaxParallelBlocks), "between 1 and 64");
        Require(ListPageSize is >= 1 and <= 5000, nameof(ListPageSize), "between 1 and 5000");
        Require(MaxRetries is >= 0 and <= 100, nameof(MaxRetries), "between 0 and 100");
        Require(RetryDelay > TimeSpan.Zero && MaxRetryDelay >= RetryDelay, nameof(RetryDelay), $"positive and at most {nameof(MaxRetryDelay)}");
    }

    /// <summary>The Azure rule for container names.</summary>
    public static bool IsValidContainerName(string? name) =>
        name is { Length: >= 3 and <= 63 }
        && name.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-')
        && name[0] != '-' && name[^1] != '-' && !name.Contains("--", StringComparison.Ordinal);

    private static void Require(bool ok, string name, string rule)
    {
        if (!ok)
        {
            throw new ArgumentException($"{nameof(AzureBlobStoreOptions)}.{name} must be {rule}.");
        }
    }
}
