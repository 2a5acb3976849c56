using System.Buffers;
using System.Globalization;
using System.Text;
using CommerceMM.Storage.Blobs;
using global::Azure;
using global::Azure.Core;

namespace CommerceMM.Storage.Azure;

/// <summary>Writes: one Put Blob when the content fits in a block, otherwise parallel Put Block calls and a conditional Put Block List.</summary>
public sealed partial class AzureBlobStore
{
    public async Task<BlobWriteResult> PutAsync(string key, Stream content, BlobCondition condition = default, CancellationToken cancellationToken = default)
    {
        BlobKey.Validate(key);
        ArgumentNullException.ThrowIfNull(content);
        int blockSize = _options.BlockSize;
        string writeId = Guid.NewGuid().ToString("N");
        byte[] first = ArrayPool<byte>.Shared.Rent(blockSize);
        byte[]? second = null;
        try
        {
            int firstLength = await FillAsync(content, first, blockSize, cancellationToken).ConfigureAwait(false);
            if (firstLength < blockSize)
            {
                return await PutSingleAsync(key, first.AsMemory(0, firstLength), condition, writeId, cancellationToken).ConfigureAwait(false);
            }

            second = ArrayPool<byte>.Shared.Rent(blockSize);
            int secondLength = await FillAsync(content, second, blockSize, cancellationToken).ConfigureAwait(false);
            if (secondLength == 0)
            {
                return await PutSingleAsync(key, first.AsMemory(0, firstLength), condition, writeId, cancellationToken).ConfigureAwait(false);
            }

            // Ownership of both buffers passes to the block upload, which returns them to the pool.
            (byte[], int)[] head = [(first, firstLength), (second, secondLength)];
            first = null!;
            second = null;
            return await PutBlocksAsync(key, head, content, condition, writeId, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (first is not null)
            {
                ArrayPool<byte>.Shared.Return(first);
            }

            if (second is not null)
            {
                ArrayPool<byte>.Shared.Return(second);
            }
        }
    }

    private async Task<BlobWriteResult> PutSingleAsync(string key, ReadOnlyMemory<byte> data, BlobCondition condition, string writeId, CancellationToken cancellationToken)
    {
        int attempts = 0;
        using HttpMessage message = await SendAsync(
            () =>
            {
                attempts++;
                HttpMessage m = NewMessage(RequestMethod.Put, key);
                m.Request.Headers.SetValue("x-ms-blob-type", "BlockBlob");
                m.Request.Headers.SetValue(WriteIdHeader, writeId);
                ApplyCondition(m.Request, condition);
                m.Request.Content = RequestContent.Create(data);
                return m;
            },
            cancellationToken).ConfigureAwait(false);
        return await InterpretWriteAsync(key, message, condition, writeId, attempts, cancellationToken).ConfigureAwait(false);
    }

    private async Task<BlobWriteResult> PutBlocksAsync(string key, (byte[] Buffer, int Length)[] head, Stream content, BlobCondition condition, string writeId, CancellationToken cancellationToken)
    {
        var blockIds = new List<string>();
        var uploads = new List<Task>();
        using var failed = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var slots = new SemaphoreSlim(_options.MaxParallelBlocks);
        var pending = new Queue<(byte[] Buffer, int Length)>(head);
        try
        {
            while (true)
            {
                (byte[] buffer, int length) = pending.Count > 0 ? pending.Dequeue() : await NextBlockAsync(content, failed.Token).ConfigureAwait(false);
                if (length == 0)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    break;
                }

                try
                {
                    await slots.WaitAsync(failed.Token).ConfigureAwait(false);
                }
                catch
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    throw;
                }

                // Same-length ids are required within a blob; the write id keeps concurrent uploads' blocks apart.
                string blockId = Convert.ToBase64String(Encoding.ASCII.GetBytes($"{writeId}-{blockIds.Count:D6}"));
                blockIds.Add(blockId);
                uploads.Add(PutBlockAsync(key, blockId, buffer, length, slots, failed));
            }

            await Task.WhenAll(uploads).ConfigureAwait(false);
        }
        catch (Exception) when (uploads.Count > 0)
        {
            failed.Cancel();
            // Wait for the rest so no buffer goes back to the pool while a request still reads it, then report the first real cause.
            await Task.WhenAll(uploads.Select(t => t.ContinueWith(_ => { }, TaskScheduler.Default))).ConfigureAwait(false);
            Exception? cause = uploads.Where(t => t.IsFaulted).Select(t => t.Exception!.InnerException!).FirstOrDefault(e => e is not OperationCanceledException);
            if (cause is not null)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(cause);
            }

            throw;
        }

        string body = BuildBlockList(blockIds);
        int attempts = 0;
        using HttpMessage message = await SendAsync(
            () =>
            {
                attempts++;
                HttpMessage m = NewMessage(RequestMethod.Put, key, ("comp", "blocklist"));
                m.Request.Headers.SetValue(WriteIdHeader, writeId);
                m.Request.Headers.SetValue("Content-Type", "application/xml");
                ApplyCondition(m.Request, condition);
                m.Request.Content = RequestContent.Create(Encoding.UTF8.GetBytes(body));
                return m;
            },
            cancellationToken).ConfigureAwait(false);
        return await InterpretWriteAsync(key, message, condition, writeId, attempts, cancellationToken).ConfigureAwait(false);
    }

    private async Task PutBlockAsync(string key, string blockId, byte[] buffer, int length, SemaphoreSlim slots, CancellationTokenSource failed)
    {
        try
        {
            using HttpMessage message = await SendAsync(
                () =>
                {
                    HttpMessage m = NewMessage(RequestMethod.Put, key, ("comp", "block"), ("blockid", blockId));
                    m.Request.Content = RequestContent.Create(buffer.AsMemory(0, length));
                    return m;
                },
                failed.Token).ConfigureAwait(false);
            if (message.Response.Status != 201)
            {
                throw Failure("upload a block of", key, message);
            }
        }
        catch
        {
            failed.Cancel(); // stop reading and sending further blocks
            throw;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            slots.Release();
        }
    }

    private async Task<(byte[] Buffer, int Length)> NextBlockAsync(Stream content, CancellationToken cancellationToken)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(_options.BlockSize);
        try
        {
            return (buffer, await FillAsync(content, buffer, _options.BlockSize, cancellationToken).ConfigureAwait(false));
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }

    /// <summary>Maps a write's response to the typed result, resolving conflicts that our own earlier attempt caused.</summary>
    private async Task<BlobWriteResult> InterpretWriteAsync(string key, HttpMessage message, BlobCondition condition, string writeId, int attempts, CancellationToken cancellationToken)
    {
        Response response = message.Response;
        if (response.Status == 201)
        {
            response.Headers.TryGetValue("ETag", out string? etag);
            return BlobWriteResult.Written(NormalizeETag(etag ?? throw new BlobStoreException($"Azure Blob Storage sent no ETag for '{key}'.")));
        }

        string? code = ErrorCode(response);
        bool conflict = condition.Kind != BlobConditionKind.None
            && (response.Status is 409 or 412
                || (response.Status == 404 && code == "BlobNotFound")
                // A concurrent writer committed first and discarded our uncommitted blocks: it changed the blob, so our condition no longer holds.
                || (response.Status == 400 && code == "InvalidBlockList"));
        if (!conflict)
        {
            throw Failure("write", key, message);
        }

        if (attempts > 1 && await WrittenByAsync(key, writeId, cancellationToken).ConfigureAwait(false) is { } ours)
        {
            return BlobWriteResult.Written(ours); // an earlier attempt succeeded but its response never reached us
        }

        return BlobWriteResult.ConditionNotMet;
    }

    /// <summary>The blob's ETag if its current version carries <paramref name="writeId"/>; otherwise null.</summary>
    private async Task<string?> WrittenByAsync(string key, string writeId, CancellationToken cancellationToken)
    {
        using HttpMessage message = await SendAsync(() => NewMessage(RequestMethod.Head, key), cancellationToken).ConfigureAwait(false);
        Response response = message.Response;
        return response.Status == 200
            && response.Headers.TryGetValue(WriteIdHeader, out string? id) && id == writeId
            && response.Headers.TryGetValue("ETag", out string? etag)
            ? NormalizeETag(etag)
            : null;
    }

    private static void ApplyCondition(Request request, BlobCondition condition)
    {
        switch (condition.Kind)
        {
            case BlobConditionKind.IfNoneMatchAny:
                request.Headers.SetValue("If-None-Match", "*");
                break;
            case BlobConditionKind.IfMatch:
                request.Headers.SetValue("If-Match", condition.ETag!);
                break;
        }
    }

    private static string BuildBlockList(List<string> blockIds)
    {
        var xml = new StringBuilder("<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>");
        foreach (string id in blockIds)
        {
            xml.Append("<Latest>").Append(id).Append("</Latest>"); // base64 needs no XML escaping
        }

        return xml.Append("</BlockList>").ToString();
    }

    /// <summary>Reads until <paramref name="count"/> bytes or the end of the stream; returns how many were read.</summary>
    private static async Task<int> FillAsync(Stream content, byte[] buffer, int count, CancellationToken cancellationToken)
    {
        int total = 0;
        while (total < count)
        {
            int n = await content.ReadAsync(buffer.AsMemory(total, count - total), cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                break;
            }

            total += n;
        }

        return total;
    }
}
