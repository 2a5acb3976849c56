using System.Security.Cryptography;
using CommerceMM.Storage.Blobs;
using global::Azure;
using global::Azure.Storage;
using global::Azure.Storage.Blobs;
using global::Azure.Storage.Blobs.Models;
using BlobProperties = CommerceMM.Storage.Blobs.BlobProperties;

namespace CommerceMM.Storage.Azure;

/// <summary>
/// Reads, pinned to one version by its ETag (If-Match on every range after the first), with ranges fetched ahead in parallel.
/// </summary>
/// <remarks>
/// <para>A whole blob with a stored Content-MD5 (every blob this store writes) streams in large ranges and is checked
/// against that MD5 at its end; the stream ends with an error instead of a clean end if it differs, after a second read
/// told corruption on the way (transient) from corrupt stored bytes (<see cref="BlobStoreException.CorruptContentErrorCode"/>).
/// This end-to-end check also covers bytes that rotted at rest, which per-range MD5s (computed by the service from those
/// same bytes) cannot see.</para>
/// <para>Any other read (a range, a blob without stored MD5) goes in ranges of at most 4 MiB, each validated with MD5
/// by the SDK (transfer validation) and read once more on a mismatch.</para>
/// </remarks>
public sealed partial class AzureBlobStore
{
    /// <summary>MD5 of every range, computed by the service and checked by the SDK (hence ranges of at most 4 MiB).</summary>
    private static readonly DownloadTransferValidationOptions Md5Validation = new()
    {
        ChecksumAlgorithm = StorageChecksumAlgorithm.MD5,
        AutoValidateChecksum = true,
    };

    /// <summary>No per-request checksum (never CRC64 or Auto: they break against Azurite); for ranges checked end to end instead.</summary>
    private static readonly DownloadTransferValidationOptions EndToEndValidation = new() { ChecksumAlgorithm = StorageChecksumAlgorithm.None };

    public async Task<BlobDownload?> OpenReadAsync(string key, BlobRange? range = null, CancellationToken cancellationToken = default)
    {
        BlobKey.Validate(key);
        await EnsureReadyAsync(cancellationToken).ConfigureAwait(false);
        BlobClient blob = _container.GetBlobClient(key);
        int rangeSize = Math.Min(_options.BlockSize, AzureBlobStoreOptions.MaxValidatedRange);
        long start = range?.Offset ?? 0;
        long firstLength = range?.Length is { } asked ? Math.Min(asked, rangeSize) : rangeSize;

        // The first range also brings the version's properties: ETag, full size, stored Content-MD5. No separate HEAD,
        // so there is no moment in which the blob can change between learning its version and reading it. A whole read
        // starts streaming at once (a large range, not buffered); a partial one fetches an MD5-validated range.
        Response<BlobDownloadStreamingResult> first;
        try
        {
            first = range is null
                ? await blob.DownloadStreamingAsync(new BlobDownloadOptions { Range = new HttpRange(0, _options.DownloadRangeSize), TransferValidation = EndToEndValidation }, cancellationToken).ConfigureAwait(false)
                : await DownloadRangeAsync(blob, key, new HttpRange(start, firstLength), conditions: null, cancellationToken).ConfigureAwait(false);
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

        // A whole blob with a stored Content-MD5 (every blob this store writes has one) streams in large ranges and is
        // checked against that MD5 at its end; anything else goes in MD5-validated ranges of at most 4 MiB.
        byte[]? storedMd5 = range is null && details.BlobContentHash is { Length: 16 } md5 ? md5 : null;
        var pinned = new BlobRequestConditions { IfMatch = details.ETag };
        Stream firstContent = first.Value.Content;
        long next = from + details.ContentLength;
        if (range is null && storedMd5 is null)
        {
            // Written without an MD5 (by another tool): start again in validated ranges, pinned to the version seen.
            first.Value.Dispose();
            try
            {
                first = await DownloadRangeAsync(blob, key, new HttpRange(0, rangeSize), pinned, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (Failure("read", key, e, cancellationToken) is { } failure)
            {
                throw failure;
            }

            firstContent = first.Value.Content;
            next = first.Value.Details.ContentLength;
        }

        RangedReadStream content = storedMd5 is not null
            ? StreamedRanges(blob, key, pinned, firstContent, next, count, cancellationToken)
            : new RangedReadStream(
                async (offset, length, ct) => (await DownloadRangeAsync(blob, key, new HttpRange(offset, length), pinned, ct).ConfigureAwait(false)).Value,
                firstContent,
                next,
                end: from + count,
                rangeSize,
                ahead: _options.MaxParallelBlocks,
                (e, ct) => Failure("read", key, e, ct),
                cancellationToken);
        return new BlobDownload(
            new CheckedReadStream(
                content,
                count,
                storedMd5,
                e => Failure("read", key, e, cancellationToken),
                (actual, ct) => Md5MismatchAsync(blob, key, pinned, size, storedMd5!, actual, ct)),
            properties);
    }

    /// <summary>
    /// The rest of a whole blob in ranges of <see cref="AzureBlobStoreOptions.DownloadRangeSize"/>, streamed (not
    /// buffered: a range in flight holds socket buffers, not memory), pinned by If-Match, <c>MaxParallelBlocks</c> at once.
    /// </summary>
    private RangedReadStream StreamedRanges(BlobClient blob, string key, BlobRequestConditions pinned, Stream first, long next, long end, CancellationToken cancellationToken) =>
        new(
            async (offset, length, ct) => (await blob.DownloadStreamingAsync(
                new BlobDownloadOptions { Range = new HttpRange(offset, length), Conditions = pinned, TransferValidation = EndToEndValidation },
                ct).ConfigureAwait(false)).Value,
            first,
            next,
            end,
            _options.DownloadRangeSize,
            ahead: _options.MaxParallelBlocks,
            (e, ct) => Failure("read", key, e, ct),
            cancellationToken);

    /// <summary>
    /// A whole read ended with an MD5 other than the stored one. Reading the blob once more tells the two causes apart:
    /// a second read that matches means the first was corrupted on the way (transient: read again); one that does
    /// not means the stored bytes are corrupt. Either way the bytes read are never used: the stream ends with this error.
    /// </summary>
    private async ValueTask<Exception> Md5MismatchAsync(BlobClient blob, string key, BlobRequestConditions pinned, long size, byte[] stored, byte[] actual, CancellationToken cancellationToken)
    {
        byte[] again;
        try
        {
            Stream first = (await blob.DownloadStreamingAsync(
                new BlobDownloadOptions { Range = new HttpRange(0, Math.Min(size, _options.DownloadRangeSize)), Conditions = pinned, TransferValidation = EndToEndValidation },
                cancellationToken).ConfigureAwait(false)).Value.Content;
            await using RangedReadStream rest = StreamedRanges(blob, key, pinned, first, Math.Min(size, _options.DownloadRangeSize), size, cancellationToken);
            again = await MD5.HashDataAsync(rest, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (Failure("read", key, e, cancellationToken) is { } failure)
        {
            return failure;
        }

        return again.AsSpan().SequenceEqual(stored)
            ? new BlobStoreException(
                $"Azure Blob Storage: blob '{key}' in container '{_options.Container}' arrived corrupted (MD5 {Convert.ToHexStringLower(actual)}, stored "
                + $"{Convert.ToHexStringLower(stored)}; a second read matched). The bytes read were not used; read it again.",
                errorCode: "TransferMd5Mismatch",
                isTransient: true)
            : StoredMd5Mismatch(key, stored, again);
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
        private readonly Func<long, long, CancellationToken, Task<BlobDownloadStreamingResult>> _download;
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
            Func<long, long, CancellationToken, Task<BlobDownloadStreamingResult>> download,
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
                BlobDownloadStreamingResult result = await _download(offset, length, ct).ConfigureAwait(false);
                if (result.Details.ContentLength != length)
                {
                    result.Dispose();
                    throw new BlobStoreException($"Azure Blob Storage sent {result.Details.ContentLength} bytes for a range of {length} at offset {offset}.", isTransient: true);
                }

                return result.Content;
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
    private sealed class CheckedReadStream(
        Stream inner, long expectedLength, byte[]? expectedMd5, Func<Exception, Exception?> map, Func<byte[], CancellationToken, ValueTask<Exception>> md5Mismatch) : Stream
    {
        private readonly BackgroundMd5? _md5 = expectedMd5 is null ? null : new BackgroundMd5();

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
            catch (Exception e) when (!(e is OperationCanceledException && cancellationToken.IsCancellationRequested) && map(e) is { } failure)
            {
                throw failure;
            }

            if (n > 0)
            {
                _read += n;
                if (_md5 is not null)
                {
                    await _md5.AppendAsync(buffer[..n], cancellationToken).ConfigureAwait(false);
                }

                return _read <= expectedLength ? n : throw new BlobStoreException($"Azure Blob Storage sent more than the {expectedLength} bytes asked for.");
            }

            if (buffer.Length == 0)
            {
                return 0;
            }

            if (_read != expectedLength)
            {
                throw new BlobStoreException($"Azure Blob Storage ended a read after {_read} of {expectedLength} bytes.", isTransient: true);
            }

            if (_md5 is not null)
            {
                byte[] actual = await _md5.FinishAsync().ConfigureAwait(false);
                if (!actual.AsSpan().SequenceEqual(expectedMd5))
                {
                    _failedEnd = await md5Mismatch(actual, cancellationToken).ConfigureAwait(false);
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
                _md5?.Dispose();
            }

            base.Dispose(disposing);
        }
    }

    /// <summary>
    /// MD5 on another thread, so that hashing overlaps the network instead of adding to it (hashing inline halved a
    /// read that ran near MD5's own speed): bytes are copied into 1 MiB batches, and at most four wait to be hashed.
    /// </summary>
    private sealed class BackgroundMd5 : IDisposable
    {
        private const int BatchSize = 1 << 20;

        private readonly System.Threading.Channels.Channel<(byte[] Buffer, int Length)> _batches =
            System.Threading.Channels.Channel.CreateBounded<(byte[], int)>(new System.Threading.Channels.BoundedChannelOptions(4) { SingleReader = true, SingleWriter = true });

        private readonly IncrementalHash _md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
        private readonly Task _hasher;
        private byte[]? _batch = System.Buffers.ArrayPool<byte>.Shared.Rent(BatchSize);
        private int _filled;

        /// <summary>Set by <see cref="FinishAsync"/>: the caller reads and disposes the hash; otherwise the hasher disposes it.</summary>
        private volatile bool _finishing;

        public BackgroundMd5() => _hasher = Task.Run(HashAsync);

        public async ValueTask AppendAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
        {
            ObjectDisposedException.ThrowIf(_batch is null, this);
            while (bytes.Length > 0)
            {
                int n = Math.Min(bytes.Length, BatchSize - _filled);
                bytes.Span[..n].CopyTo(_batch.AsSpan(_filled));
                _filled += n;
                bytes = bytes[n..];
                if (_filled == BatchSize)
                {
                    await _batches.Writer.WriteAsync((_batch, _filled), cancellationToken).ConfigureAwait(false);
                    _batch = System.Buffers.ArrayPool<byte>.Shared.Rent(BatchSize);
                    _filled = 0;
                }
            }
        }

        public async Task<byte[]> FinishAsync()
        {
            ObjectDisposedException.ThrowIf(_batch is null, this);
            _finishing = true;
            await _batches.Writer.WriteAsync((_batch, _filled)).ConfigureAwait(false);
            _batch = null;
            _batches.Writer.TryComplete();
            await _hasher.ConfigureAwait(false);
            byte[] hash = _md5.GetCurrentHash();
            _md5.Dispose();
            return hash;
        }

        public void Dispose()
        {
            if (_batch is { } batch)
            {
                // Ended early: the hasher drains what is queued (returning each batch to the pool), then disposes the hash.
                _batch = null;
                System.Buffers.ArrayPool<byte>.Shared.Return(batch);
                _batches.Writer.TryComplete();
            }
        }

        private async Task HashAsync()
        {
            try
            {
                await foreach ((byte[] buffer, int length) in _batches.Reader.ReadAllAsync().ConfigureAwait(false))
                {
                    _md5.AppendData(buffer, 0, length);
                    System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
                }
            }
            finally
            {
                if (!_finishing)
                {
                    _md5.Dispose();
                }
            }
        }
    }
}
