using CommerceMM.Storage.Blobs;

namespace CommerceMM.Storage.Tests.Checkpoints;

/// <summary>A real store whose writes wait for <see cref="Open"/>: lets a test observe what happens while an upload is in progress.</summary>
internal sealed class GatedBlobStore(IBlobStore inner) : IBlobStore
{
    private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Open() => _gate.TrySetResult();

    public async Task<BlobWriteResult> PutAsync(string key, Stream content, BlobCondition condition = default, CancellationToken cancellationToken = default)
    {
        await _gate.Task.WaitAsync(cancellationToken);
        return await inner.PutAsync(key, content, condition, cancellationToken);
    }

    public Task<BlobDownload?> OpenReadAsync(string key, BlobRange? range = null, string? expectedSha256 = null, CancellationToken cancellationToken = default) => inner.OpenReadAsync(key, range, expectedSha256, cancellationToken);

    public Task<BlobProperties?> GetPropertiesAsync(string key, CancellationToken cancellationToken = default) => inner.GetPropertiesAsync(key, cancellationToken);

    public IAsyncEnumerable<BlobProperties> ListAsync(string prefix, CancellationToken cancellationToken = default) => inner.ListAsync(prefix, cancellationToken);

    public Task<bool> DeleteAsync(string key, CancellationToken cancellationToken = default) => inner.DeleteAsync(key, cancellationToken);
}
