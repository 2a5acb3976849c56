namespace CommerceMM.Storage.Blobs;

/// <summary>An open read of one blob version: the bytes asked for, and the properties of the version they come from.</summary>
/// <remarks>Both describe the same version: a concurrent overwrite cannot mix old properties with new bytes.</remarks>
public sealed class BlobDownload : IDisposable, IAsyncDisposable
{
    public BlobDownload(Stream content, BlobProperties properties)
    {
        Content = content;
        Properties = properties;
    }

    /// <summary>The requested bytes (the whole blob, or the requested range clipped to the blob).</summary>
    public Stream Content { get; }

    /// <summary>Properties of the whole blob version (its full size, not the range's).</summary>
    public BlobProperties Properties { get; }

    public void Dispose() => Content.Dispose();

    public ValueTask DisposeAsync() => Content.DisposeAsync();
}
