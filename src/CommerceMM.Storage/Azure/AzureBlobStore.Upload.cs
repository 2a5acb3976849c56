using System.Security.Cryptography;
using CommerceMM.Storage.Blobs;
using global::Azure;
using global::Azure.Storage;
using global::Azure.Storage.Blobs.Models;
using BlobProperties = CommerceMM.Storage.Blobs.BlobProperties;
using global::Azure.Storage.Blobs.Specialized;

namespace CommerceMM.Storage.Azure;

/// <summary>
/// Writes through the SDK's partitioned upload: one Put Blob below <see cref="AzureBlobStoreOptions.BlockSize"/>,
/// otherwise parallel Put Block calls (<c>StorageTransferOptions</c>) and a conditional Put Block List. Every request is
/// MD5-validated by the service, and the blob's Content-MD5 is set to the MD5 of the whole content.
/// </summary>
/// <remarks>
/// The trap of chunked conditional uploads: Put Block takes no If-None-Match/If-Match, so the condition is checked
/// only at the commit, after every block went up, and a refused commit leaves the staged blocks behind, uncommitted.
/// So a write that may be chunked checks its condition first and sends nothing when it already fails; the commit still
/// carries the condition, so a writer that wins in between is never overwritten. Blocks a losing writer did stage are
/// invisible to every read, list and properties call, and the service discards them at the blob's next commit (or
/// after a week): they are ignored, never committed.
/// </remarks>
public sealed partial class AzureBlobStore
{
    public async Task<BlobWriteResult> PutAsync(string key, Stream content, BlobCondition condition = default, CancellationToken cancellationToken = default)
    {
        BlobKey.Validate(key);
        ArgumentNullException.ThrowIfNull(content);
        await EnsureReadyAsync(cancellationToken).ConfigureAwait(false);
        BlockBlobClient blob = _container.GetBlockBlobClient(key);
        var headers = new BlobHttpHeaders();
        // Content below one block goes up in one Put Blob, atomic with its condition, with its MD5 known in advance.
            // Only a seekable stream of known length takes that path in the SDK, so a short stream is buffered here first.
        Stream body;
        if (content.CanSeek && content.Length - content.Position < _options.BlockSize)
        {
            long start = content.Position;
            headers.ContentHash = await MD5.HashDataAsync(content, cancellationToken).ConfigureAwait(false);
            content.Position = start;
            body = content;
        }
        else
        {
            ReadOnlyMemory<byte> head = content.CanSeek ? default : await ReadHeadAsync(content, _options.BlockSize, cancellationToken).ConfigureAwait(false);
            if (!content.CanSeek && head.Length < _options.BlockSize)
            {
                headers.ContentHash = MD5.HashData(head.Span);
                body = new ReadOnlyMemoryStream(head);
            }
            else
            {
                // Staged blocks. The trap (see the remarks): a write that is bound to fail sends no block.
                if (condition.Kind != BlobConditionKind.None && !await ConditionHoldsAsync(key, condition, cancellationToken).ConfigureAwait(false))
                {
                    return BlobWriteResult.ConditionNotMet;
                }

                // The SDK reads the headers when it sends Put Block List, after the content's end: the whole-content
                // MD5, computed on the way through, is in place by then.
                body = new Md5ComputingStream(head, content, md5 => headers.ContentHash = md5);
            }
        }

        return await UploadAsync(blob, key, body, headers, condition, cancellationToken).ConfigureAwait(false);
    }

    private async Task<BlobWriteResult> UploadAsync(BlockBlobClient blob, string key, Stream body, BlobHttpHeaders headers, BlobCondition condition, CancellationToken cancellationToken)
    {
        string writeId = Guid.NewGuid().ToString("N");
        var options = new BlobUploadOptions
        {
            HttpHeaders = headers,
            Metadata = new Dictionary<string, string> { [WriteIdMetadata] = writeId },
            Conditions = condition.Kind switch
            {
                BlobConditionKind.IfNoneMatchAny => new BlobRequestConditions { IfNoneMatch = ETag.All },
                BlobConditionKind.IfMatch => new BlobRequestConditions { IfMatch = new ETag(condition.ETag!) },
                _ => null,
            },
            TransferOptions = new StorageTransferOptions
            {
                InitialTransferSize = _options.BlockSize,
                MaximumTransferSize = _options.BlockSize,
                MaximumConcurrency = _options.MaxParallelBlocks,
            },
            TransferValidation = new UploadTransferValidationOptions { ChecksumAlgorithm = StorageChecksumAlgorithm.MD5 },
        };
        try
        {
            Response<BlobContentInfo> written = await blob.UploadAsync(body, options, cancellationToken).ConfigureAwait(false);
            return BlobWriteResult.Written(NormalizeETag(written.Value.ETag.ToString()));
        }
        catch (RequestFailedException e) when (condition.Kind != BlobConditionKind.None && IsConditionFailure(e))
        {
            // The SDK retries: our own earlier attempt may have won with its response lost. Then the blob carries our write id.
            return await WrittenByAsync(key, writeId, cancellationToken).ConfigureAwait(false) is { } ours
                ? BlobWriteResult.Written(ours)
                : BlobWriteResult.ConditionNotMet;
        }
        catch (Exception e) when (SourceFailure(e) is { } source)
        {
            // The caller's content failed (not the service): its own exception, unchanged. Nothing was committed.
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(source);
            throw;
        }
        catch (Exception e) when (Failure("write", key, e, cancellationToken) is { } failure)
        {
            throw failure;
        }
    }

    /// <summary>
    /// 409 BlobAlreadyExists, 412 ConditionNotMet, 404 for If-Match on an absent blob, or 400 InvalidBlockList: a
    /// concurrent writer committed first and so discarded our uncommitted blocks; it changed the blob, so our condition no longer holds.
    /// </summary>
    private static bool IsConditionFailure(RequestFailedException e) =>
        e.Status is 409 or 412 || (e.Status == 404 && e.ErrorCode == "BlobNotFound") || (e.Status == 400 && e.ErrorCode == "InvalidBlockList");

    /// <summary>Whether <paramref name="condition"/> holds now (checked before staging any block).</summary>
    private async Task<bool> ConditionHoldsAsync(string key, BlobCondition condition, CancellationToken cancellationToken)
    {
        BlobProperties? current = await GetPropertiesAsync(key, cancellationToken).ConfigureAwait(false);
        return condition.Kind == BlobConditionKind.IfNoneMatchAny
            ? current is null
            : current is not null && current.ETag == NormalizeETag(condition.ETag!);
    }

    /// <summary>The blob's ETag if its current version carries <paramref name="writeId"/>; otherwise null.</summary>
    private async Task<string?> WrittenByAsync(string key, string writeId, CancellationToken cancellationToken)
    {
        try
        {
            Response<global::Azure.Storage.Blobs.Models.BlobProperties> response =
                await _container.GetBlobClient(key).GetPropertiesAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            return response.Value.Metadata.TryGetValue(WriteIdMetadata, out string? id) && id == writeId
                ? NormalizeETag(response.Value.ETag.ToString())
                : null;
        }
        catch (RequestFailedException e) when (IsBlobNotFound(e))
        {
            return null;
        }
        catch (Exception e) when (Failure("write", key, e, cancellationToken) is { } failure)
        {
            throw failure;
        }
    }

    /// <summary>
    /// Passes the content through, forward only, and reports the MD5 of all of it when it ends. Not seekable on purpose:
    /// the SDK then buffers each block it sends (as it does anyway for parallel uploads) and reads the content exactly once, in order.
    /// </summary>
    private sealed class Md5ComputingStream(ReadOnlyMemory<byte> prefix, Stream inner, Action<byte[]> onEnd) : Stream
    {
        private readonly IncrementalHash _md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
        private ReadOnlyMemory<byte> _prefix = prefix;
        private bool _ended;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            if (TakePrefix(buffer) is > 0 and int taken)
            {
                return taken;
            }

            int n;
            try
            {
                n = inner.Read(buffer);
            }
            catch (Exception e)
            {
                throw new SourceStreamException(e);
            }

            return Account(buffer[..n], buffer.Length);
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (TakePrefix(buffer.Span) is > 0 and int taken)
            {
                return taken;
            }

            int n;
            try
            {
                n = await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (!(e is OperationCanceledException && cancellationToken.IsCancellationRequested))
            {
                throw new SourceStreamException(e);
            }

            return Account(buffer.Span[..n], buffer.Length);
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
                _md5.Dispose(); // the caller's stream stays open: it is the caller's
            }

            base.Dispose(disposing);
        }

        /// <summary>Serves (and hashes) the bytes read ahead of the stream first.</summary>
        private int TakePrefix(Span<byte> buffer)
        {
            int n = Math.Min(buffer.Length, _prefix.Length);
            if (n == 0)
            {
                return 0;
            }

            _prefix.Span[..n].CopyTo(buffer);
            _prefix = _prefix[n..];
            _md5.AppendData(buffer[..n]);
            return n;
        }

        /// <summary>Hashes what was read; a read of nothing into a non-empty buffer is the end.</summary>
        private int Account(ReadOnlySpan<byte> bytes, int requested)
        {
            if (bytes.Length > 0)
            {
                _md5.AppendData(bytes);
            }
            else if (requested > 0 && !_ended)
            {
                _ended = true;
                onEnd(_md5.GetHashAndReset());
            }

            return bytes.Length;
        }
    }

    /// <summary>Up to <paramref name="count"/> bytes from the stream's start (fewer: the whole content). Grows as it reads, so a small content costs little.</summary>
    private static async Task<ReadOnlyMemory<byte>> ReadHeadAsync(Stream content, int count, CancellationToken cancellationToken)
    {
        byte[] buffer = new byte[Math.Min(count, 64 * 1024)];
        int total = 0;
        while (total < count)
        {
            if (total == buffer.Length)
            {
                Array.Resize(ref buffer, (int)Math.Min(count, 2L * buffer.Length));
            }

            int n = await content.ReadAsync(buffer.AsMemory(total, buffer.Length - total), cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                break;
            }

            total += n;
        }

        return buffer.AsMemory(0, total);
    }

    private static Exception? SourceFailure(Exception e) => e switch
    {
        SourceStreamException s => s.InnerException,
        AggregateException a => a.InnerExceptions.Select(SourceFailure).FirstOrDefault(x => x is not null),
        _ => null,
    };

    /// <summary>Carries an exception of the caller's content stream through the SDK, so it is not taken for a network failure.</summary>
    private sealed class SourceStreamException(Exception inner) : Exception(inner.Message, inner);
}
