namespace CommerceMM.Storage.Blobs;

/// <summary>
/// The caller's view of a read: the end of the stream is reported only after the length (and, when one is expected,
/// the digest) checked out, so a corrupt blob can never be read to a clean end; every read after a failed end throws again.
/// </summary>
/// <param name="inner">The bytes as they arrive.</param>
/// <param name="store">How messages name the store, e.g. <c>Azure Blob Storage</c>.</param>
/// <param name="expectedLength">How many bytes the read must hold.</param>
/// <param name="expected">The digest they must hash to, or null.</param>
/// <param name="map">Turns a failure of <paramref name="inner"/> into the store's exception (null: rethrow as is).</param>
/// <param name="mismatch">The error to end with when the digest differs, given the actual digest (it may read again to find the cause).</param>
internal sealed class CheckedReadStream(
    Stream inner,
    string store,
    long expectedLength,
    ContentDigest? expected,
    Func<Exception, Exception?>? map,
    Func<byte[], CancellationToken, ValueTask<Exception>> mismatch) : Stream
{
    private readonly BackgroundHash? _hash = expected is null ? null : new BackgroundHash(expected.Algorithm);

    private long _read;

    /// <summary>The verdict at the end, once known: null (clean) or the exception every further read throws.</summary>
    private Exception? _failedEnd;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => expectedLength;

    public override long Position
    {
        get => _read;
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_failedEnd is not null)
        {
            throw _failedEnd;
        }

        int n;
        try
        {
            n = await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (!(e is OperationCanceledException && cancellationToken.IsCancellationRequested) && map?.Invoke(e) is { } failure)
        {
            throw failure;
        }

        if (n > 0)
        {
            _read += n;
            if (_hash is not null)
            {
                await _hash.AppendAsync(buffer[..n], cancellationToken).ConfigureAwait(false);
            }

            return _read <= expectedLength ? n : throw new BlobStoreException($"{store} sent more than the {expectedLength} bytes asked for.");
        }

        if (buffer.Length == 0)
        {
            return 0;
        }

        if (_read != expectedLength)
        {
            throw new BlobStoreException($"{store} ended a read after {_read} of {expectedLength} bytes.", isTransient: true);
        }

        if (_hash is not null)
        {
            byte[] actual = await _hash.FinishAsync().ConfigureAwait(false);
            if (!expected!.Matches(actual))
            {
                _failedEnd = await mismatch(actual, cancellationToken).ConfigureAwait(false);
                throw _failedEnd;
            }
        }

        return 0;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
            _hash?.Dispose();
        }

        base.Dispose(disposing);
    }
}
