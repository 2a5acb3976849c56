using System.Globalization;
using System.Runtime.CompilerServices;
using CommerceMM.Storage.Blobs;
using global::Azure;
using global::Azure.Core;
using global::Azure.Core.Pipeline;
using Polly;

namespace CommerceMM.Storage.Azure;

/// <summary>
/// <see cref="IBlobStore"/> over the Azure Blob Storage REST API (and Azurite), built on Azure.Core's HTTP pipeline
/// because the Azure.Storage.Blobs package cannot be restored here. One store addresses one container.
/// </summary>
/// <remarks>
/// Every request runs inside a Polly retry pipeline (<see cref="AzureRetry"/>). A write carries a random
/// <c>x-ms-meta-cmmwriteid</c> so that, when a retried conditional write meets a conflict, the store can tell
/// "someone else won" from "our earlier attempt won but its response was lost" and report the latter as written.
/// </remarks>
public sealed partial class AzureBlobStore : IBlobStore
{
    private const string WriteIdHeader = "x-ms-meta-cmmwriteid";

    private readonly AzureBlobStoreOptions _options;

    /// <summary>Azure.Core pipeline: request ids, telemetry, auth, logging with secrets redacted, transport.</summary>
    private readonly HttpPipeline _pipeline;

    /// <summary>The single retry loop (Azure.Core's own retries are off).</summary>
    private readonly ResiliencePipeline _retry;

    /// <summary>Container URL without a trailing '/', e.g. <c>http://127.0.0.1:10000/devstoreaccount1/ckpt</c>.</summary>
    private readonly string _containerUrl;

    public AzureBlobStore(AzureBlobStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _containerUrl = options.ServiceUri!.AbsoluteUri.TrimEnd('/') + "/" + options.Container;
        var clientOptions = new BlobClientOptions();
        clientOptions.Retry.MaxRetries = 0;
        HttpPipelinePolicy auth = options.SharedKey is { } key
            ? new SharedKeySigningPolicy(key, options.TimeProvider)
            : new SasQueryPolicy(options.Sas!);
        _pipeline = HttpPipelineBuilder.Build(clientOptions, [], [auth], new ResponseClassifier());
        _retry = AzureRetry.Build(options);
    }

    /// <summary>A store from a connection string (<c>AccountName=…;AccountKey=…;BlobEndpoint=…</c>, a SAS, or <c>UseDevelopmentStorage=true</c>).</summary>
    public static AzureBlobStore FromConnectionString(string connectionString, string container, Action<AzureBlobStoreOptions>? configure = null)
    {
        var options = new AzureBlobStoreOptions { Container = container };
        AzureStorageConnectionString.Apply(connectionString, options);
        configure?.Invoke(options);
        return new AzureBlobStore(options);
    }

    /// <summary>The container this store addresses.</summary>
    public string Container => _options.Container;

    public override string ToString() => _containerUrl; // no credential is part of the URL

    /// <summary>Creates the container; false when it already existed.</summary>
    public async Task<bool> CreateContainerIfNotExistsAsync(CancellationToken cancellationToken = default)
    {
        using HttpMessage message = await SendAsync(() => NewMessage(RequestMethod.Put, null, ("restype", "container")), cancellationToken).ConfigureAwait(false);
        return message.Response.Status switch
        {
            201 => true,
            409 => false,
            _ => throw Failure("create container", null, message),
        };
    }

    public async Task<BlobDownload?> OpenReadAsync(string key, BlobRange? range = null, CancellationToken cancellationToken = default)
    {
        BlobKey.Validate(key);
        using HttpMessage message = await SendAsync(
            () =>
            {
                HttpMessage m = NewMessage(RequestMethod.Get, key);
                m.BufferResponse = false; // stream the body to the caller instead of into memory
                if (range is { } r)
                {
                    string end = r.Length is { } l ? (r.Offset + l - 1).ToString(CultureInfo.InvariantCulture) : "";
                    m.Request.Headers.SetValue("x-ms-range", $"bytes={r.Offset}-{end}");
                }

                return m;
            },
            cancellationToken).ConfigureAwait(false);
        Response response = message.Response;
        switch (response.Status)
        {
            case 200 or 206:
                long size = response.Status == 206 ? TotalFromContentRange(response) : response.Headers.ContentLength ?? 0;
                BlobProperties properties = PropertiesFrom(key, response, size);
                return new BlobDownload(message.ExtractResponseContent() ?? Stream.Null, properties);
            case 404 when ErrorCode(response) != "ContainerNotFound":
                return null;
            case 416:
                // The service refuses a range that starts at or past the end; the store contract reads that as empty.
                BlobProperties? whole = await GetPropertiesAsync(key, cancellationToken).ConfigureAwait(false);
                return whole is null ? null : new BlobDownload(new MemoryStream([], writable: false), whole);
            default:
                throw Failure("read", key, message);
        }
    }

    public async Task<BlobProperties?> GetPropertiesAsync(string key, CancellationToken cancellationToken = default)
    {
        BlobKey.Validate(key);
        using HttpMessage message = await SendAsync(() => NewMessage(RequestMethod.Head, key), cancellationToken).ConfigureAwait(false);
        return message.Response.Status switch
        {
            200 => PropertiesFrom(key, message.Response, message.Response.Headers.ContentLength ?? 0),
            404 when ErrorCode(message.Response) != "ContainerNotFound" => null,
            _ => throw Failure("get properties of", key, message),
        };
    }

    public async IAsyncEnumerable<BlobProperties> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        BlobKey.ValidatePrefix(prefix);
        string? marker = null;
        do
        {
            string? pageMarker = marker;
            using HttpMessage message = await SendAsync(
                () =>
                {
                    var query = new List<(string, string)> { ("restype", "container"), ("comp", "list"), ("maxresults", _options.ListPageSize.ToString(CultureInfo.InvariantCulture)) };
                    if (prefix.Length > 0)
                    {
                        query.Add(("prefix", prefix));
                    }

                    if (pageMarker is not null)
                    {
                        query.Add(("marker", pageMarker));
                    }

                    return NewMessage(RequestMethod.Get, null, [.. query]);
                },
                cancellationToken).ConfigureAwait(false);
            if (message.Response.Status != 200)
            {
                throw Failure("list", prefix, message);
            }

            BlobListPage page = BlobListPage.Parse(message.Response.ContentStream!);
            foreach (BlobProperties properties in page.Blobs)
            {
                yield return properties;
            }

            marker = page.NextMarker;
        }
        while (!string.IsNullOrEmpty(marker));
    }

    public async Task<bool> DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        BlobKey.Validate(key);
        int attempts = 0;
        using HttpMessage message = await SendAsync(
            () =>
            {
                attempts++;
                return NewMessage(RequestMethod.Delete, key);
            },
            cancellationToken).ConfigureAwait(false);
        return message.Response.Status switch
        {
            202 => true,
            // After a retry, "not found" may mean our first attempt deleted it: either way it is gone, and it existed.
            404 when ErrorCode(message.Response) != "ContainerNotFound" => attempts > 1,
            _ => throw Failure("delete", key, message),
        };
    }

    /// <summary>Builds a request for the container (<paramref name="key"/> null) or a blob, with the service version and query.</summary>
    private HttpMessage NewMessage(RequestMethod method, string? key, params (string Name, string Value)[] query)
    {
        HttpMessage message = _pipeline.CreateMessage();
        Request request = message.Request;
        request.Method = method;
        // Keys are validated to URL-safe characters, so they go into the path unescaped, '/' included.
        request.Uri.Reset(new Uri(key is null ? _containerUrl : _containerUrl + "/" + key));
        foreach ((string name, string value) in query)
        {
            request.Uri.AppendQuery(name, value, escapeValue: true);
        }

        request.Headers.SetValue("x-ms-version", AzureBlobStoreOptions.ServiceVersion);
        return message;
    }

    /// <summary>
    /// Sends a fresh message per attempt inside the retry pipeline. Transient statuses become retryable exceptions;
    /// any other response is returned for the caller to interpret (the caller disposes it).
    /// </summary>
    private async Task<HttpMessage> SendAsync(Func<HttpMessage> create, CancellationToken cancellationToken)
    {
        try
        {
            return await SendWithRetriesAsync(create, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not BlobStoreException && AzureRetry.IsTransient(e, cancellationToken))
        {
            // Retries are spent: give callers one exception type, naming the endpoint (host and port only, never a query).
            throw new BlobStoreException(
                $"Azure Blob Storage at {_options.ServiceUri!.Authority} could not be reached for container '{_options.Container}' after {_options.MaxRetries} retries: {e.Message}",
                isTransient: true,
                innerException: e);
        }
    }

    private Task<HttpMessage> SendWithRetriesAsync(Func<HttpMessage> create, CancellationToken cancellationToken) =>
        _retry.ExecuteAsync(
            async ct =>
            {
                HttpMessage message = create();
                try
                {
                    await _pipeline.SendAsync(message, ct).ConfigureAwait(false);
                    if (AzureRetry.IsTransientStatus(message.Response.Status))
                    {
                        throw Failure("request", null, message, isTransient: true);
                    }

                    return message;
                }
                catch
                {
                    message.Dispose();
                    throw;
                }
            },
            cancellationToken).AsTask();

    private BlobStoreException Failure(string operation, string? key, HttpMessage message, bool isTransient = false)
    {
        Response response = message.Response;
        string? code = ErrorCode(response);
        string target = key is null ? "" : $" '{key}'";
        string hint = (response.Status, code) switch
        {
            (403, _) when _options.Sas is not null => " The SAS token was refused: it may be expired, not yet valid, or lack the needed permissions.",
            (403, _) => " The request signature was refused: check the account name and key.",
            (404, "ContainerNotFound") => " The container does not exist: create it first.",
            _ => "",
        };
        // The URL is not part of the message: with a SAS its query string is a secret.
        return new BlobStoreException(
            $"Azure Blob Storage: {operation}{target} in container '{_options.Container}' failed with HTTP {response.Status}{(code is null ? "" : " " + code)}.{hint}",
            response.Status,
            code,
            isTransient);
    }

    private static string? ErrorCode(Response response) => response.Headers.TryGetValue("x-ms-error-code", out string? code) ? code : null;

    private static BlobProperties PropertiesFrom(string key, Response response, long size)
    {
        response.Headers.TryGetValue("ETag", out string? etag);
        response.Headers.TryGetValue("Last-Modified", out string? modified);
        return new BlobProperties(
            key,
            size,
            NormalizeETag(etag ?? throw new BlobStoreException($"Azure Blob Storage sent no ETag for '{key}'.")),
            modified is null ? DateTimeOffset.MinValue : DateTimeOffset.ParseExact(modified, "r", CultureInfo.InvariantCulture));
    }

    /// <summary>Headers quote ETags and list results do not; always use the quoted form so both compare equal.</summary>
    internal static string NormalizeETag(string etag) => etag.StartsWith('"') ? etag : $"\"{etag}\"";

    /// <summary>The blob's full size from <c>Content-Range: bytes START-END/TOTAL</c>.</summary>
    private static long TotalFromContentRange(Response response)
    {
        if (response.Headers.TryGetValue("Content-Range", out string? value)
            && long.TryParse(value.AsSpan(value.LastIndexOf('/') + 1), NumberStyles.None, CultureInfo.InvariantCulture, out long total))
        {
            return total;
        }

        throw new BlobStoreException("Azure Blob Storage sent a partial response without a usable Content-Range header.");
    }

    /// <summary>Azure.Core needs a concrete options type; ours only switches its retries off.</summary>
    private sealed class BlobClientOptions : ClientOptions;
}
