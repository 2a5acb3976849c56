namespace CommerceMM.Storage.Blobs;

/// <summary>
/// A flat key/value store of immutable-per-version blobs with ETags, shaped after Azure Blob Storage so the
/// file system store and the Azure store are interchangeable (the file store is the test reference).
/// </summary>
/// <remarks>
/// ETag contract: every successful write issues a new ETag for the key; a write with
/// <see cref="BlobCondition.IfMatch"/> succeeds only while the blob still carries that ETag, and
/// <see cref="BlobCondition.IfNoneMatchAny"/> succeeds only when the key is absent. A failed condition is a
/// <see cref="BlobWriteResult"/> with <see cref="BlobWriteStatus.ConditionNotMet"/>, never an exception,
/// because losing a race is an expected outcome of the commit protocol.
/// Keys are validated by <see cref="BlobKey"/>; an invalid key throws <see cref="ArgumentException"/>.
/// </remarks>
public interface IBlobStore
{
    /// <summary>Writes <paramref name="content"/> (read to its end) as the whole blob, if <paramref name="condition"/> holds.</summary>
    Task<BlobWriteResult> PutAsync(string key, Stream content, BlobCondition condition = default, CancellationToken cancellationToken = default);

    /// <summary>Opens the blob (or a byte range of it) for reading; <c>null</c> when the key is absent.</summary>
    /// <param name="key">The blob.</param>
    /// <param name="range">The bytes to read; null for the whole blob.</param>
    /// <param name="expectedSha256">
    /// The whole blob's SHA-256 (hexadecimal), where the reader knows it (a checkpoint manifest lists every file's): the
    /// store checks the bytes against it as they stream, in place of its own check, and ends the read with a
    /// <see cref="BlobStoreException"/> that names the key and both digests (<see cref="BlobStoreException.IsCorruptContent"/>
    /// when reading again will not help) instead of a clean end. Only for whole reads.
    /// </param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <remarks>A range starting at or past the end reads as empty; a range running past the end is clipped.</remarks>
    Task<BlobDownload?> OpenReadAsync(string key, BlobRange? range = null, string? expectedSha256 = null, CancellationToken cancellationToken = default);

    /// <summary>Size and ETag of the blob; <c>null</c> when the key is absent.</summary>
    Task<BlobProperties?> GetPropertiesAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>Every blob whose key starts with <paramref name="prefix"/> (a plain string prefix, not a folder), in ordinal key order.</summary>
    IAsyncEnumerable<BlobProperties> ListAsync(string prefix, CancellationToken cancellationToken = default);

    /// <summary>Deletes the blob; <c>false</c> when it was already absent.</summary>
    Task<bool> DeleteAsync(string key, CancellationToken cancellationToken = default);
}
