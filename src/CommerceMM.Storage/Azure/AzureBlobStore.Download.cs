using CommerceMM.Storage.Blobs;
using global::Azure;
using global::Azure.Storage;
using global::Azure.Storage.Blobs;
using global::Azure.Storage.Blobs.Models;
using BlobProperties = CommerceMM.Storage.Blobs.BlobProperties;

namespace CommerceMM.Storage.Azure;

/// <summary>
/// Reads: pinned to one version by its ETag, in ranges of at most 4 MiB fetched in parallel, each validated with MD5
/// (the SDK's transfer validation); a whole-blob read is also checked against the blob's stored Content-MD5, which is
/// what catches bytes that rotted at rest (each range's MD5 is computed by the service from those same bytes).
/// </summary>
public sealed partial class AzureBlobStore
{
    /// <summary>MD5 of every range, computed by the service and checked by the SDK (hence ranges of at most 4 MiB).</summary>
    private static readonly DownloadTransferValidationOptions Md5Validation = new()
    {
        ChecksumAlgorithm = StorageChecksumAlgorithm.MD5,
        AutoValidateChecksum = true,
    };

    public async Task<BlobDownload?> OpenReadAsync(string key, BlobRange? range = null, CancellationToken cancellationToken = default)
    {
        BlobKey.Validate(key);
        await EnsureReadyAsync(cancellationToken).ConfigureAwait(false);
        BlobClient blob = _container.GetBlobClient(key);
        int rangeSize = Math.Min(_options.BlockSize, AzureBlobStoreOptions.MaxValidatedRange);
        long start = range?.Offset ?? 0;
        long firstLength = range?.Length is { } asked ? Math.Min(asked, rangeSize) : rangeSize;

        // The first range also brings the version's properties: ETag, full size, stored Content-MD5. No separate HEAD,
        // so there is no moment in which the blob can change between learning its version and reading it.
        Response<BlobDownloadStreamingResult> first;
        try
        {
            first = await DownloadRangeAsync(blob, key, new HttpRange(start, firstLength), conditions: null, cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException e) when (IsBlobNotFound(e))
        {
            return null;
        }
        catch (RequestFailedException e) when (e.Status == 416)
        {
            // The service refuses a range that starts at or past the end (any range of an empty blob): that reads as empty.
            BlobProperties? whole = await GetPropertiesAsync(key, cancellationToken).ConfigureAwait(false);
            return whole is null ? null : new BlobDownload(new MemoryStream([], writable: false), whole);
        }
        catch (Exception e) when (Failure("read", key, e, cancellationToken) is { } failure)
        {
            throw failure;
        }

        BlobDownloadDetails details = first.Value.Details;
        long size = TotalFromContentRange(details.ContentRange) ?? details.ContentLength;
        var properties = new BlobProperties(key, size, NormalizeETag(details.ETag.ToString()), details.LastModified);
        (long from, long count) = range is { } r ? r.Clip(size) : (0, size);
        if (count == 0 || details.ContentLength > count)
        {
            first.Value.Dispose();
            if (count == 0)
            {
                return new BlobDownload(new MemoryStream([], writable: false), properties);
            }

            throw new BlobStoreException($"Azure Blob Storage sent {details.ContentLength} bytes of '{key}' for a range of {count}.");
        }

        byte[]? wholeMd5 = from == 0 && count == size && details.BlobContentHash is { Length: 16 } md5 ? md5 : null;
        var pinned = new BlobRequestConditions { IfMatch = details.ETag };
        var content = new RangedReadStream(
            (range, ct) => DownloadRangeAsync(blob, key, range, pinned, ct),
            first.Value.Content,
            next: from + details.ContentLength,
            end: from + count,
            rangeSize,
            ahead: _options.MaxParallelBlocks,
            (e, ct) => Failure("read", key, e, ct),
            cancellationToken);
        return new BlobDownload(
            new CheckedReadStream(content, count, wholeMd5, e => Failure("read", key, e, cancellationToken), actual => StoredMd5Mismatch(key, wholeMd5!, actual)),
            properties);
    }

    /// <summary>
    /// One range, MD5-validated. A mismatch is read once more: corruption on the wire does not repeat, while bytes that
    /// rotted at rest (which some servers, Azurite included, check against the stored MD5) fail again, and then the blob
    /// is reported as corrupt and its bytes are never handed out.
    /// </summary>
    private async Task<Response<BlobDownloadStreamingResult>> DownloadRangeAsync(
        BlobClient blob, string key, HttpRange range, BlobRequestConditions? conditions, CancellationToken cancellationToken)
    {
        var options = new BlobDownloadOptions { Range = range, Conditions = conditions, TransferValidation = Md5Validation };
        try
        {
            return await blob.DownloadStreamingAsync(options, cancellationToken).ConfigureAwait(false);
        }
        catch (InvalidDataException)
        {
        }

        try
        {
            return await blob.DownloadStreamingAsync(options, cancellationToken).ConfigureAwait(false);
        }
        catch (InvalidDataException e)
        {
            throw new BlobStoreException(
                $"Azure Blob Storage: blob '{key}' in container '{_options.Container}' failed MD5 validation on two reads of {range}: the bytes the service "
                + "sends do not match their MD5 (corrupt at rest, or corrupted on every transfer). The blob's bytes must not be used.",
                errorCode: BlobStoreException.CorruptContentErrorCode,
                innerException: e);
        }
    }

    /// <summary>TOTAL of <c>bytes START-END/TOTAL</c>.</summary>
    private static long? TotalFromContentRange(string? contentRange) =>
        contentRange is not null
        && long.TryParse(contentRange.AsSpan(contentRange.LastIndexOf('/') + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long total)
            ? total
            : null;

    private BlobStoreException StoredMd5Mismatch(string key, byte[] expected, byte[] actual) => new(
        $"Azure Blob Storage: blob '{key}' in container '{_options.Container}' failed MD5 validation: its stored Content-MD5 is {Convert.ToHexStringLower(expected)} "
        + $"but the bytes read hash to {Convert.ToHexStringLower(actual)}. The blob is corrupt; its bytes must not be used.",
        errorCode: BlobStoreException.CorruptContentErrorCode);

    /// <summary>
    /// Serves a byte span of one blob version: the first range (already fetched), then the next ranges, up to
    /// <c>ahead</c> of them in flight at once, each pinned to the version by If-Match and MD5-validated by the SDK.
    /// A concurrent overwrite fails the read (412) instead of mixing versions.
    /// </summary>
    private sealed class RangedReadStream : Stream
    {
        private readonly Func<HttpRange, CancellationToken, Task<Response<BlobDownloadStreamingResult>>> _download;
        private readonly long _end;
        private readonly int _rangeSize;
        private readonly int _ahead;
        private readonly Func<Exception, CancellationToken, Exception?> _map;
        private readonly CancellationTokenSource _cancel;
        private readonly Queue<Task<Stream>> _pending = new();
        private long _next;
        private Stream? _current;
        private bool _disposed;

        public RangedReadStream(
            Func<HttpRange, CancellationToken, Task<Response<BlobDownloadStreamingResult>>> download,
            Stream first, long next, long end, int rangeSize, int ahead, Func<Exception, CancellationToken, Exception?> map, CancellationToken cancellationToken)
        {
            _download = download;
            _current = first;
            _next = next;
            _end = end;
            _rangeSize = rangeSize;
            _ahead = ahead;
            _map = map;
            _cancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            Schedule();
        }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (buffer.Length == 0)
            {
                return 0;
            }

            while (true)
            {
                if (_current is not null)
                {
                    int n = await _current.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
                    if (n > 0)
                    {
                        return n;
                    }

                    await _current.DisposeAsync().ConfigureAwait(false);
                    _current = null;
                }

                if (_pending.Count == 0)
                {
                    return 0;
                }

                Task<Stream> next = _pending.Dequeue();
                Schedule();
                _current = await next.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing && !_disposed)
            {
                _disposed = true;
                _cancel.Cancel();
                _current?.Dispose();
                foreach (Task<Stream> pending in _pending)
                {
                    // Ranges still in flight: release each one's buffer when it lands (or fails, observed).
                    _ = pending.ContinueWith(t => t.Result.Dispose(), CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
                    _ = pending.ContinueWith(t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
                }

                _pending.Clear();
            }

            base.Dispose(disposing);
        }

        /// <summary>Keeps up to <c>ahead</c> ranges in flight.</summary>
        private void Schedule()
        {
            while (_pending.Count < _ahead && _next < _end)
            {
                long length = Math.Min(_rangeSize, _end - _next);
                _pending.Enqueue(FetchAsync(_next, length));
                _next += length;
            }
        }

        private async Task<Stream> FetchAsync(long offset, long length)
        {
            CancellationToken ct = _cancel.Token;
            try
            {
                Response<BlobDownloadStreamingResult> response = await _download(new HttpRange(offset, length), ct).ConfigureAwait(false);
                if (response.Value.Details.ContentLength != length)
                {
                    response.Value.Dispose();
                    throw new BlobStoreException($"Azure Blob Storage sent {response.Value.Details.ContentLength} bytes for a range of {length} at offset {offset}.", isTransient: true);
                }

                return response.Value.Content;
            }
            catch (Exception e) when (_map(e, ct) is { } failure)
            {
                throw failure;
            }
        }
    }

    /// <summary>
    /// The caller's view of a read: failures become <see cref="BlobStoreException"/>s naming the key, and the end of the
    /// stream is reported only after the length (and, for a whole blob with a stored Content-MD5, the MD5) checked out,
    /// so a corrupt blob can never be read to a clean end.
    /// </summary>
    private sealed class CheckedReadStream(Stream inner, long expectedLength, byte[]? expectedMd5, Func<Exception, Exception?> map, Func<byte[], Exception> md5Mismatch) : Stream
    {
        private readonly System.Security.Cryptography.IncrementalHash? _md5 =
            expectedMd5 is null ? null : System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.MD5);

        private long _read;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => expectedLength;

        public override long Position
        {
            get => _read;
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            int n;
            try
            {
                n = inner.Read(buffer);
            }
            catch (Exception e) when (map(e) is { } failure)
            {
                throw failure;
            }

            return Account(buffer[..n]);
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            int n;
            try
            {
                n = await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (!(e is OperationCanceledException && cancellationToken.IsCancellationRequested) && map(e) is { } failure)
            {
                throw failure;
            }

            return Account(buffer.Span[..n]);
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
                _md5?.Dispose();
            }

            base.Dispose(disposing);
        }

        private int Account(ReadOnlySpan<byte> bytes)
        {
            if (bytes.Length > 0)
            {
                _read += bytes.Length;
                _md5?.AppendData(bytes);
                if (_read > expectedLength)
                {
                    throw new BlobStoreException($"Azure Blob Storage sent more than the {expectedLength} bytes asked for.");
                }

                return bytes.Length;
            }

            if (_read != expectedLength)
            {
                throw new BlobStoreException($"Azure Blob Storage ended a read after {_read} of {expectedLength} bytes.", isTransient: true);
            }

            if (_md5 is not null)
            {
                byte[] actual = _md5.GetCurrentHash();
                if (!actual.AsSpan().SequenceEqual(expectedMd5))
                {
                    throw md5Mismatch(actual);
                }
            }

            return 0;
        }
    }
}
