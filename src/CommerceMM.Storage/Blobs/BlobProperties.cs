namespace CommerceMM.Storage.Blobs;

/// <summary>What a store knows about one blob version.</summary>
/// <param name="Key">The blob's key.</param>
/// <param name="Size">Length of the whole blob in bytes.</param>
/// <param name="ETag">Opaque version tag; pass it back unchanged to <see cref="BlobCondition.IfMatch"/>.</param>
/// <param name="LastModified">When this version was written, as the store reports it.</param>
public sealed record BlobProperties(string Key, long Size, string ETag, DateTimeOffset LastModified);
