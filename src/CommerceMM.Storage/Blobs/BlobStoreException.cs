namespace CommerceMM.Storage.Blobs;

/// <summary>
/// A blob store refused or failed an operation for a reason other than a failed write condition (which is a
/// <see cref="BlobWriteResult"/>). The message names the operation, key and cause, and never a secret.
/// </summary>
public class BlobStoreException : IOException
{
    /// <summary>
    /// <see cref="ErrorCode"/> of a blob whose bytes fail the store's own integrity check (Azure: the stored Content-MD5):
    /// the blob is corrupt, and reading it again will not help.
    /// </summary>
    public const string CorruptContentErrorCode = "CorruptContent";

    public BlobStoreException(string message, int status = 0, string? errorCode = null, bool isTransient = false, Exception? innerException = null)
        : base(message, innerException)
    {
        Status = status;
        ErrorCode = errorCode;
        IsTransient = isTransient;
    }

    /// <summary>The HTTP status, or 0 when there was no response.</summary>
    public int Status { get; }

    /// <summary>The service's error code (for Azure, <c>x-ms-error-code</c>), when it sent one.</summary>
    public string? ErrorCode { get; }

    /// <summary>True when trying again later may succeed (throttling, server errors, network failures).</summary>
    public bool IsTransient { get; }

    /// <summary>True when the blob's stored bytes fail the store's integrity check (<see cref="CorruptContentErrorCode"/>).</summary>
    public bool IsCorruptContent => ErrorCode == CorruptContentErrorCode;
}
