using global::Azure;
using global::Azure.Core;
using global::Azure.Core.Pipeline;
using global::Azure.Storage;
using global::Azure.Storage.Blobs;

namespace CommerceMM.Storage.Azure;

/// <summary>Where and how <see cref="AzureBlobStore"/> talks to Azure Blob Storage (or Azurite), through Azure.Storage.Blobs.</summary>
public sealed class AzureBlobStoreOptions
{
    /// <summary>Default <see cref="BlockSize"/>: 8 MiB keeps a few blocks in flight per upload within modest memory.</summary>
    public const int DefaultBlockSize = 8 << 20;

    /// <summary>Default <see cref="DownloadRangeSize"/>.</summary>
    public const int DefaultDownloadRangeSize = 256 << 20;

    /// <summary>Default <see cref="MaxParallelBlocks"/>.</summary>
    public const int DefaultMaxParallelBlocks = 4;

    /// <summary>Default <see cref="ListPageSize"/>: the service's own maximum.</summary>
    public const int DefaultListPageSize = 5000;

    /// <summary>Default <see cref="MaxRetries"/>: with the default delays this rides out roughly 20 s of outage.</summary>
    public const int DefaultMaxRetries = 8;

    /// <summary>Default <see cref="ProbeMaxRetries"/>.</summary>
    public const int DefaultProbeMaxRetries = 2;

    /// <summary>
    /// The largest range whose MD5 the service computes for a download (<c>x-ms-range-get-content-md5</c>): downloads
    /// validated with MD5 go in ranges of at most this size.
    /// </summary>
    public const int MaxValidatedRange = 4 << 20;

    /// <summary>
    /// The REST version the SDK speaks: the newest that both Azure.Storage.Blobs 12.30 and Azurite 3.37 know, so a stock
    /// Azurite works too (the SDK's own default, 2026-10-06, needs Azurite's <c>--skipApiVersionCheck</c>).
    /// </summary>
    public const BlobClientOptions.ServiceVersion ServiceVersion = BlobClientOptions.ServiceVersion.V2026_06_06;

    /// <summary>
    /// The blob service endpoint: <c>https://ACCOUNT.blob.core.windows.net</c>, or for Azurite the path-style
    /// <c>http://127.0.0.1:10000/devstoreaccount1</c>. No query string (a SAS goes in <see cref="Sas"/>).
    /// </summary>
    public Uri? ServiceUri { get; set; }

    /// <summary>The container holding every blob of this store.</summary>
    public string Container { get; set; } = "";

    /// <summary>Shared Key (account key) credentials; set exactly one of this, <see cref="Sas"/> and <see cref="TokenCredential"/>.</summary>
    public StorageSharedKeyCredential? SharedKey { get; set; }

    /// <summary>A shared access signature (the query string, with or without '?').</summary>
    public AzureSasCredential? Sas { get; set; }

    /// <summary>A Microsoft Entra credential, e.g. Azure.Identity's <c>DefaultAzureCredential</c> for a managed identity.</summary>
    public TokenCredential? TokenCredential { get; set; }

    /// <summary>Where <see cref="ServiceUri"/> came from (an environment variable, a connection string's key): error messages name it.</summary>
    public string EndpointSetting { get; set; } = $"{nameof(AzureBlobStoreOptions)}.{nameof(ServiceUri)}";

    /// <summary>Where the credential came from: error messages name it, never its value.</summary>
    public string? CredentialSetting { get; set; }

    /// <summary>Where <see cref="Container"/> came from: error messages name it.</summary>
    public string ContainerSetting { get; set; } = $"{nameof(AzureBlobStoreOptions)}.{nameof(Container)}";

    /// <value>Default <see cref="DefaultBlockSize"/>.</value>
    /// <remarks>
    /// A blob smaller than this goes up in a single Put Blob; a larger one in staged blocks of this size
    /// (<see cref="StorageTransferOptions.InitialTransferSize"/> and <see cref="StorageTransferOptions.MaximumTransferSize"/>).
    /// Partial reads go in ranges of this size too, capped at <see cref="MaxValidatedRange"/> for MD5 validation.
    /// </remarks>
    public int BlockSize { get; set; } = DefaultBlockSize;

    /// <value>Default <see cref="DefaultDownloadRangeSize"/>.</value>
    /// <remarks>
    /// Range size of whole-blob reads of blobs with a stored Content-MD5 (all that this store writes): each range is one
    /// streamed GET (not buffered: a range in flight holds socket buffers, not memory), up to <see cref="MaxParallelBlocks"/>
    /// at once, and the whole is checked against the stored MD5 at the end. Against Azurite one streamed GET was the
    /// fastest way to read a checkpoint file (4 MiB ranges ran at a quarter of its speed, 4 x 32 MiB at two thirds), so a
    /// file up to this size is read in one request; larger ones in parallel ranges.
    /// </remarks>
    public int DownloadRangeSize { get; set; } = DefaultDownloadRangeSize;

    /// <value>Default <see cref="DefaultMaxParallelBlocks"/>.</value>
    /// <remarks>Blocks (or download ranges) of one transfer in flight at once (<see cref="StorageTransferOptions.MaximumConcurrency"/>).</remarks>
    public int MaxParallelBlocks { get; set; } = DefaultMaxParallelBlocks;

    /// <value>Default <see cref="DefaultListPageSize"/>.</value>
    public int ListPageSize { get; set; } = DefaultListPageSize;

    /// <value>Default <see cref="DefaultMaxRetries"/>.</value>
    /// <remarks>Retries of one request after a transient failure (408, 429, 5xx, network); 0 disables retrying. The SDK's retry policy does them.</remarks>
    public int MaxRetries { get; set; } = DefaultMaxRetries;

    /// <value>Default 250 ms.</value>
    /// <remarks>First retry delay; it doubles per attempt, with jitter, up to <see cref="MaxRetryDelay"/>.</remarks>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <value>Default 5 s.</value>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <value>Default 100 s (the SDK's).</value>
    /// <remarks>How long one attempt may wait on the network (connect, or no bytes moving) before it counts as failed and is retried.</remarks>
    public TimeSpan NetworkTimeout { get; set; } = TimeSpan.FromSeconds(100);

    /// <value>Default <see cref="DefaultProbeMaxRetries"/>.</value>
    /// <remarks>
    /// Retries of the first request a store makes (the probe of the endpoint, the credential and the container), capped
    /// by <see cref="MaxRetries"/>: a wrong setting fails fast with one clear error instead of a long retry loop.
    /// </remarks>
    public int ProbeMaxRetries { get; set; } = DefaultProbeMaxRetries;

    /// <value>Default 10 s.</value>
    /// <remarks>The network timeout of the probe, capped by <see cref="NetworkTimeout"/>.</remarks>
    public TimeSpan ProbeNetworkTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>A policy added to every attempt's pipeline; tests use it to corrupt or observe traffic.</summary>
    internal HttpPipelinePolicy? PerRetryPolicy { get; set; }

    /// <summary>How long an owner lock's claim outlives its last renewal (Azure allows 15 to 60 s); tests shorten it.</summary>
    internal TimeSpan OwnerLeaseDuration { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Which credential is set, for messages: the setting it came from, or the option's name.</summary>
    internal string CredentialName => CredentialSetting ?? (SharedKey is not null
        ? $"{nameof(AzureBlobStoreOptions)}.{nameof(SharedKey)}"
        : Sas is not null ? $"{nameof(AzureBlobStoreOptions)}.{nameof(Sas)}" : $"{nameof(AzureBlobStoreOptions)}.{nameof(TokenCredential)}");

    /// <summary>Throws <see cref="ArgumentException"/> naming the first bad option.</summary>
    public void Validate()
    {
        if (ServiceUri is null || !ServiceUri.IsAbsoluteUri || (ServiceUri.Scheme != Uri.UriSchemeHttp && ServiceUri.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException($"{nameof(AzureBlobStoreOptions)}.{nameof(ServiceUri)} ({EndpointSetting}) must be an absolute http(s) URL.");
        }

        if (ServiceUri.Query.Length > 0)
        {
            // Most likely a SAS pasted into the URL; say so without printing it.
            throw new ArgumentException($"{nameof(AzureBlobStoreOptions)}.{nameof(ServiceUri)} ({EndpointSetting}) must have no query string; pass a SAS token through {nameof(Sas)}.");
        }

        if (!IsValidContainerName(Container))
        {
            throw new ArgumentException(
                $"{nameof(AzureBlobStoreOptions)}.{nameof(Container)} '{Container}' ({ContainerSetting}) is not a valid container name (3-63 characters: lower-case letters, digits, single hyphens, starting and ending with a letter or digit).");
        }

        int credentials = (SharedKey is null ? 0 : 1) + (Sas is null ? 0 : 1) + (TokenCredential is null ? 0 : 1);
        if (credentials != 1)
        {
            throw new ArgumentException($"{nameof(AzureBlobStoreOptions)}: set exactly one of {nameof(SharedKey)}, {nameof(Sas)} and {nameof(TokenCredential)}.");
        }

        Require(BlockSize is >= 1024 and <= 1 << 30, nameof(BlockSize), "between 1 KiB and 1 GiB");
        Require(DownloadRangeSize is >= 1 << 20 and <= 1 << 30, nameof(DownloadRangeSize), "between 1 MiB and 1 GiB");
        Require(MaxParallelBlocks is >= 1 and <= 64, nameof(MaxParallelBlocks), "between 1 and 64");
        Require(ListPageSize is >= 1 and <= 5000, nameof(ListPageSize), "between 1 and 5000");
        Require(MaxRetries is >= 0 and <= 100, nameof(MaxRetries), "between 0 and 100");
        Require(RetryDelay > TimeSpan.Zero && MaxRetryDelay >= RetryDelay, nameof(RetryDelay), $"positive and at most {nameof(MaxRetryDelay)}");
        Require(NetworkTimeout > TimeSpan.Zero, nameof(NetworkTimeout), "positive");
        Require(ProbeMaxRetries >= 0, nameof(ProbeMaxRetries), "0 or more");
        Require(ProbeNetworkTimeout > TimeSpan.Zero, nameof(ProbeNetworkTimeout), "positive");
    }

    /// <summary>The Azure rule for container names.</summary>
    public static bool IsValidContainerName(string? name) =>
        name is { Length: >= 3 and <= 63 }
        && name.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-')
        && name[0] != '-' && name[^1] != '-' && !name.Contains("--", StringComparison.Ordinal);

    /// <summary>The SDK's client options: service version, retries and timeouts from these options.</summary>
    internal BlobClientOptions ClientOptions(bool probe)
    {
        var options = new BlobClientOptions(ServiceVersion);
        options.Retry.Mode = RetryMode.Exponential;
        options.Retry.MaxRetries = probe ? Math.Min(MaxRetries, ProbeMaxRetries) : MaxRetries;
        options.Retry.Delay = RetryDelay;
        options.Retry.MaxDelay = MaxRetryDelay;
        options.Retry.NetworkTimeout = probe && ProbeNetworkTimeout < NetworkTimeout ? ProbeNetworkTimeout : NetworkTimeout;
        if (PerRetryPolicy is not null)
        {
            options.AddPolicy(PerRetryPolicy, HttpPipelinePosition.PerRetry);
        }

        return options;
    }

    private static void Require(bool ok, string name, string rule)
    {
        if (!ok)
        {
            throw new ArgumentException($"{nameof(AzureBlobStoreOptions)}.{name} must be {rule}.");
        }
    }
}
