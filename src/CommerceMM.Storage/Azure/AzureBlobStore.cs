using System.Runtime.CompilerServices;
using CommerceMM.Storage.Blobs;
using global::Azure;
using global::Azure.Storage.Blobs;
using global::Azure.Storage.Blobs.Models;
using BlobProperties = CommerceMM.Storage.Blobs.BlobProperties;
using SdkBlobProperties = global::Azure.Storage.Blobs.Models.BlobProperties;

namespace CommerceMM.Storage.Azure;

/// <summary>
/// <see cref="IBlobStore"/> on Azure Blob Storage (and Azurite) through Azure.Storage.Blobs. One store addresses one container.
/// </summary>
/// <remarks>
/// <para>The SDK signs (Shared Key, SAS or Entra token), retries (<see cref="AzureBlobStoreOptions.MaxRetries"/>,
/// <see cref="AzureBlobStoreOptions.RetryDelay"/>, <see cref="AzureBlobStoreOptions.NetworkTimeout"/>), splits transfers
/// into parallel blocks (<c>StorageTransferOptions</c>) and validates every transfer with MD5.</para>
/// <para>Before its first operation the store probes the endpoint, the credential and the container with few retries
/// (<see cref="AzureBlobStoreOptions.ProbeMaxRetries"/>): a wrong setting is one clear error naming it, not a retry
/// loop. A failed probe is tried again by the next call; a successful one is not repeated.</para>
/// <para>Every write carries a random <c>cmmwriteid</c> metadata value, so that when a retried conditional write meets
/// a conflict the store can tell "someone else won" from "our earlier attempt won but its response was lost".</para>
/// </remarks>
public sealed partial class AzureBlobStore : IBlobStore
{
    private const string WriteIdMetadata = "cmmwriteid";

    private readonly AzureBlobStoreOptions _options;

    /// <summary>The container, with the configured retries and timeouts.</summary>
    private readonly BlobContainerClient _container;

    /// <summary>The same container with few retries and a short timeout, for the first request.</summary>
    private readonly BlobContainerClient _probeContainer;

    /// <summary>Container URL without a trailing '/', e.g. <c>http://127.0.0.1:10000/devstoreaccount1/ckpt</c>; never a credential.</summary>
    private readonly string _containerUrl;

    /// <summary>The probe: null before the first call, then the latest attempt (repeated while it fails).</summary>
    private Task? _ready;

    public AzureBlobStore(AzureBlobStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _containerUrl = options.ServiceUri!.GetLeftPart(UriPartial.Path).TrimEnd('/') + "/" + options.Container;
        _container = CreateContainerClient(options, probe: false);
        _probeContainer = CreateContainerClient(options, probe: true);
    }

    /// <summary>A store from a connection string (<c>AccountName=…;AccountKey=…;BlobEndpoint=…</c>, a SAS, or <c>UseDevelopmentStorage=true</c>).</summary>
    public static AzureBlobStore FromConnectionString(string connectionString, string container, Action<AzureBlobStoreOptions>? configure = null)
    {
        var options = new AzureBlobStoreOptions { Container = container };
        AzureStorageConnectionString.Apply(connectionString, options);
        configure?.Invoke(options);
        return new AzureBlobStore(options);
    }

    /// <summary>A store from the environment (see <see cref="AzureBlobStoreEnvironment"/>: connection string, SAS, account key or managed identity, and transfer settings).</summary>
    /// <param name="container">The container, e.g. the job spec's <c>checkpoint.container</c>.</param>
    /// <param name="containerSetting">Where <paramref name="container"/> came from, for error messages.</param>
    /// <param name="getVariable">Reads a variable; the process environment by default.</param>
    public static AzureBlobStore FromEnvironment(string container, string containerSetting = "container", Func<string, string?>? getVariable = null) =>
        new(AzureBlobStoreEnvironment.Read(container, containerSetting, getVariable));

    /// <summary>The container this store addresses.</summary>
    public string Container => _options.Container;

    /// <summary>The options this store was built from (tests rebuild a store with hooks added).</summary>
    internal AzureBlobStoreOptions Options => _options;

    /// <summary>The SDK's client for the container (tests inspect blocks and properties through it).</summary>
    internal BlobContainerClient ContainerClient => _container;

    public override string ToString() => _containerUrl;

    /// <summary>
    /// Checks once that the endpoint answers, the credential is accepted and the container exists, with few retries;
    /// every operation does this before its first request. Throws <see cref="BlobStoreException"/> naming the setting at fault.
    /// </summary>
    public Task VerifyAsync(CancellationToken cancellationToken = default) => EnsureReadyAsync(cancellationToken);

    /// <summary>Creates the container; false when it already existed. Also counts as the probe.</summary>
    public async Task<bool> CreateContainerIfNotExistsAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            Response<BlobContainerInfo>? created = await _probeContainer.CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            Volatile.Write(ref _ready, Task.CompletedTask);
            return created is not null;
        }
        catch (Exception e) when (Failure("create container", null, e, cancellationToken, probe: true) is { } failure)
        {
            throw failure;
        }
    }

    public async Task<BlobProperties?> GetPropertiesAsync(string key, CancellationToken cancellationToken = default)
    {
        BlobKey.Validate(key);
        await EnsureReadyAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            Response<SdkBlobProperties> response = await _container.GetBlobClient(key).GetPropertiesAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            return PropertiesFrom(key, response.Value);
        }
        catch (RequestFailedException e) when (IsBlobNotFound(e))
        {
            return null;
        }
        catch (Exception e) when (Failure("get properties of", key, e, cancellationToken) is { } failure)
        {
            throw failure;
        }
    }

    public async IAsyncEnumerable<BlobProperties> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        BlobKey.ValidatePrefix(prefix);
        await EnsureReadyAsync(cancellationToken).ConfigureAwait(false);
        var options = new GetBlobsOptions { Prefix = prefix.Length > 0 ? prefix : null };
        await using IAsyncEnumerator<Page<BlobItem>> pages = _container.GetBlobsAsync(options, cancellationToken)
            .AsPages(pageSizeHint: _options.ListPageSize)
            .GetAsyncEnumerator(cancellationToken);
        while (true)
        {
            Page<BlobItem> page;
            try
            {
                if (!await pages.MoveNextAsync().ConfigureAwait(false))
                {
                    yield break;
                }

                page = pages.Current;
            }
            catch (Exception e) when (Failure("list", prefix, e, cancellationToken) is { } failure)
            {
                throw failure;
            }

            foreach (BlobItem item in page.Values)
            {
                yield return new BlobProperties(
                    item.Name,
                    item.Properties.ContentLength ?? 0,
                    NormalizeETag(item.Properties.ETag?.ToString() ?? throw new BlobStoreException($"Azure Blob Storage listed '{item.Name}' without an ETag.")),
                    item.Properties.LastModified ?? DateTimeOffset.MinValue);
            }
        }
    }

    public async Task<bool> DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        BlobKey.Validate(key);
        await EnsureReadyAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            Response<bool> deleted = await _container.GetBlobClient(key).DeleteIfExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            return deleted.Value;
        }
        catch (Exception e) when (Failure("delete", key, e, cancellationToken) is { } failure)
        {
            throw failure;
        }
    }

    private static BlobContainerClient CreateContainerClient(AzureBlobStoreOptions options, bool probe)
    {
        BlobClientOptions clientOptions = options.ClientOptions(probe);
        BlobServiceClient service = options switch
        {
            { SharedKey: { } key } => new BlobServiceClient(options.ServiceUri!, key, clientOptions),
            { Sas: { } sas } => new BlobServiceClient(options.ServiceUri!, sas, clientOptions),
            _ => new BlobServiceClient(options.ServiceUri!, options.TokenCredential!, clientOptions),
        };
        return service.GetBlobContainerClient(options.Container);
    }

    /// <summary>Runs the probe unless one has succeeded; concurrent first calls share one attempt.</summary>
    private Task EnsureReadyAsync(CancellationToken cancellationToken)
    {
        Task? ready = Volatile.Read(ref _ready);
        if (ready is { IsCompletedSuccessfully: true })
        {
            return Task.CompletedTask;
        }

        if (ready is null || ready.IsFaulted || ready.IsCanceled)
        {
            Task probe = ProbeAsync();
            Task? seen = Interlocked.CompareExchange(ref _ready, probe, ready);
            ready = ReferenceEquals(seen, ready) ? probe : seen!;
        }

        return ready.WaitAsync(cancellationToken);
    }

    /// <summary>
    /// Lists at most one blob: that needs the endpoint, an accepted credential and the container. A credential that
    /// authenticates but may not list (a write-only SAS) passes: its operations report their own refusals.
    /// </summary>
    private async Task ProbeAsync()
    {
        try
        {
            await foreach (Page<BlobItem> _ in _probeContainer.GetBlobsAsync().AsPages(pageSizeHint: 1).ConfigureAwait(false))
            {
                break;
            }
        }
        catch (RequestFailedException e) when (e.Status == 403 && e.ErrorCode is "AuthorizationPermissionMismatch" or "AuthorizationResourceTypeMismatch")
        {
        }
        catch (Exception e) when (Failure("checking access", null, e, CancellationToken.None, probe: true) is { } failure)
        {
            throw failure;
        }
    }

    private static bool IsBlobNotFound(RequestFailedException e) => e.Status == 404 && e.ErrorCode != "ContainerNotFound";

    private static BlobProperties PropertiesFrom(string key, SdkBlobProperties properties) =>
        new(key, properties.ContentLength, NormalizeETag(properties.ETag.ToString()), properties.LastModified);

    /// <summary>Headers quote ETags and list results do not; always use the quoted form so both compare equal.</summary>
    internal static string NormalizeETag(string etag) => etag.StartsWith('"') ? etag : $"\"{etag}\"";
}
