namespace CommerceMM.Storage.Blobs;

/// <summary>Outcome of a write: either written with a new ETag, or refused because its condition did not hold.</summary>
public sealed record BlobWriteResult
{
    private BlobWriteResult(BlobWriteStatus status, string? etag)
    {
        Status = status;
        ETag = etag;
    }

    public BlobWriteStatus Status { get; }

    /// <summary>The new ETag when <see cref="Succeeded"/>; otherwise <c>null</c>.</summary>
    public string? ETag { get; }

    public bool Succeeded => Status == BlobWriteStatus.Written;

    public static BlobWriteResult Written(string etag) => new(BlobWriteStatus.Written, etag);

    public static BlobWriteResult ConditionNotMet { get; } = new(BlobWriteStatus.ConditionNotMet, null);
}

public enum BlobWriteStatus
{
    Written,

    /// <summary>If-None-Match: * found the key present, or If-Match found it absent or changed (HTTP 409/412).</summary>
    ConditionNotMet,
}
