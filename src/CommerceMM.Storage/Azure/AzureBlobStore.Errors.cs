using System.Net.Http;
using System.Net.Sockets;
using CommerceMM.Storage.Blobs;
using global::Azure;

namespace CommerceMM.Storage.Azure;

/// <summary>SDK failures as <see cref="BlobStoreException"/>s that name the operation, the key and the setting at fault, never a secret.</summary>
public sealed partial class AzureBlobStore
{
    /// <summary>HTTP statuses the SDK retries: timeouts, throttling and server-side failures.</summary>
    private static readonly int[] TransientStatuses = [408, 429, 500, 502, 503, 504];

    /// <summary>
    /// The exception to throw instead of <paramref name="e"/>; null to let <paramref name="e"/> through (the caller's own
    /// cancellation, argument errors, and exceptions this store already made).
    /// </summary>
    private BlobStoreException? Failure(string operation, string? key, Exception e, CancellationToken cancellationToken, bool probe = false)
    {
        if (e is BlobStoreException or ArgumentException || (e is OperationCanceledException && cancellationToken.IsCancellationRequested))
        {
            return null;
        }

        int retries = probe ? Math.Min(_options.MaxRetries, _options.ProbeMaxRetries) : _options.MaxRetries;
        string target = key is null ? "" : $" '{key}'";
        if (IsTransport(e))
        {
            // The URL is not part of the message (with a SAS its query is a secret): host and port name the endpoint.
            return new BlobStoreException(
                $"Azure Blob Storage at {_options.ServiceUri!.Authority} ({_options.EndpointSetting}) could not be reached for container '{_options.Container}' after {retries} retries: {TransportMessage(e)}",
                isTransient: true,
                innerException: e);
        }

        if (e is InvalidDataException)
        {
            return new BlobStoreException(
                $"Azure Blob Storage: {operation}{target} in container '{_options.Container}' failed MD5 transfer validation (the bytes received differ from the bytes the service holds); they were not used.",
                errorCode: "TransferMd5Mismatch",
                isTransient: true,
                innerException: e);
        }

        if (e is not RequestFailedException r)
        {
            return null;
        }

        bool changedWhileRead = operation == "read" && r.Status == 412;
        bool transient = changedWhileRead || Array.IndexOf(TransientStatuses, r.Status) >= 0;
        string hint = (r.Status, r.ErrorCode) switch
        {
            (403, _) when _options.Sas is not null =>
                $" The SAS token was refused ({_options.CredentialName}): it may be expired, not yet valid, or lack the needed permissions.",
            (403, _) when _options.SharedKey is not null =>
                $" The request signature was refused: check the account name and key ({_options.CredentialName}).",
            (403, _) => $" The Entra credential was refused ({_options.CredentialName}), or it lacks a data role on the container.",
            _ when changedWhileRead => " The blob was overwritten while it was being read; read it again.",
            // Never created on the fly: a mistyped name would start the job over in an empty container, its committed work unseen.
            (404, "ContainerNotFound") => $" The container does not exist ({_options.ContainerSetting}): create it (`az storage container create --name {_options.Container}`, " +
                                          "or the Azure portal), or correct the name.",
            (400, "InvalidHeaderValue") when r.Message.Contains("API version", StringComparison.OrdinalIgnoreCase) =>
                $" The server does not know REST version {AzureBlobStoreOptions.ServiceVersion}: for Azurite, upgrade it or start it with --skipApiVersionCheck.",
            _ when transient => $" Gave up after {retries} retries.",
            _ => "",
        };
        string code = string.IsNullOrEmpty(r.ErrorCode) ? "" : " " + r.ErrorCode;
        return new BlobStoreException(
            $"Azure Blob Storage: {operation}{target} in container '{_options.Container}' failed with HTTP {r.Status}{code}.{hint}",
            r.Status,
            r.ErrorCode,
            transient,
            e);
    }

    /// <summary>No response at all: refused, reset, DNS, a network timeout, or the SDK's retries spent on such failures.</summary>
    private static bool IsTransport(Exception e) => e switch
    {
        RequestFailedException r => r.Status == 0,
        AggregateException a => a.InnerExceptions.Count > 0 && a.InnerExceptions.All(IsTransport),
        HttpRequestException or SocketException or TimeoutException => true,
        IOException => e is not BlobStoreException,
        // A network timeout (NetworkTimeout) surfaces as a cancellation the caller did not ask for.
        OperationCanceledException => true,
        _ => false,
    };

    /// <summary>The innermost message: "Connection refused (127.0.0.1:10000)" rather than the SDK's retry summary.</summary>
    private static string TransportMessage(Exception e)
    {
        Exception inner = e is AggregateException a && a.InnerExceptions.Count > 0 ? a.InnerExceptions[^1] : e;
        while (inner.InnerException is not null)
        {
            inner = inner.InnerException;
        }

        return inner.Message;
    }
}
