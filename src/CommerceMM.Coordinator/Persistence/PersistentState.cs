using System.Text.Json;
using CommerceMM.Coordinator.Contracts;
using CommerceMM.Storage.Blobs;

namespace CommerceMM.Coordinator.Persistence;

public enum StateWriteStatus
{
    Written,

    /// <summary>The serialized state equals what was last read or written: nothing was sent to the store.</summary>
    Unchanged,

    /// <summary>The blob changed since it was read (another coordinator wrote it): nothing was written.</summary>
    Conflict,
}

/// <summary>
/// One entity's state as a JSON blob, read once on activation and written back with If-Match on the ETag last seen
/// (If-None-Match: * for the first write). Writes are skipped when the bytes did not change, so read-only turns cost
/// no I/O.
/// </summary>
internal sealed class PersistentState<T>
    where T : class
{
    private readonly IBlobStore _store;
    private readonly string _key;
    private byte[]? _lastBytes;
    private string? _etag;

    public PersistentState(IBlobStore store, string key, T initial)
    {
        BlobKey.Validate(key);
        _store = store;
        _key = key;
        State = initial;
    }

    public T State { get; set; }

    /// <summary>False until the blob has been written once (or found on read).</summary>
    public bool Exists => _etag is not null;

    public string Key => _key;

    /// <summary>Loads the stored state, keeping <see cref="State"/> as it is when nothing is stored yet.</summary>
    public async Task ReadAsync(CancellationToken cancellationToken)
    {
        await using BlobDownload? download = await _store.OpenReadAsync(_key, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (download is null)
        {
            _etag = null;
            _lastBytes = null;
            return;
        }

        using var buffer = new MemoryStream();
        await download.Content.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
        byte[] bytes = buffer.ToArray();
        State = JsonSerializer.Deserialize<T>(bytes, CoordinatorJson.Options)
            ?? throw new InvalidDataException($"Entity state '{_key}' is 'null'.");
        _etag = download.Properties.ETag;
        _lastBytes = bytes;
    }

    public async Task<StateWriteStatus> WriteAsync(CancellationToken cancellationToken)
    {
        byte[] bytes = JsonSerializer.SerializeToUtf8Bytes(State, CoordinatorJson.Options);
        if (_lastBytes is not null && _etag is not null && bytes.AsSpan().SequenceEqual(_lastBytes))
        {
            return StateWriteStatus.Unchanged;
        }

        BlobCondition condition = _etag is null ? BlobCondition.IfNoneMatchAny : BlobCondition.IfMatch(_etag);
        BlobWriteResult result = await _store.PutAsync(_key, new MemoryStream(bytes), condition, cancellationToken).ConfigureAwait(false);
        if (!result.Succeeded)
        {
            return StateWriteStatus.Conflict;
        }

        _etag = result.ETag;
        _lastBytes = bytes;
        return StateWriteStatus.Written;
    }
}
