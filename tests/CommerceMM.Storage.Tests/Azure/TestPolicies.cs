using global::Azure.Core;
using global::Azure.Core.Pipeline;

namespace CommerceMM.Storage.Tests.Azure;

/// <summary>Counts the attempts (retries included) that reach the transport.</summary>
internal sealed class CountingPolicy : HttpPipelineSynchronousPolicy
{
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _requests = new();
    private int _attempts;

    public int Attempts => Volatile.Read(ref _attempts);

    /// <summary>Method and path with query of every attempt, for failure messages.</summary>
    public IEnumerable<string> Requests => _requests;

    public override void OnSendingRequest(HttpMessage message)
    {
        Interlocked.Increment(ref _attempts);
        _requests.Enqueue($"{message.Request.Method} {message.Request.Uri.Path}{message.Request.Uri.Query}");
    }
}

/// <summary>
/// Flips one bit in the body of the responses (downloads) or requests (uploads) it selects, after the SDK computed or
/// before it checks their MD5: corruption on the wire, which MD5 transfer validation must catch.
/// </summary>
/// <param name="responses">Corrupt blob reads.</param>
/// <param name="requests">Corrupt blob writes.</param>
/// <param name="limit">How many bodies to corrupt at most (then traffic passes untouched).</param>
/// <param name="skip">How many selected bodies to let through untouched before corrupting any.</param>
internal sealed class CorruptingPolicy(bool responses, bool requests, int limit = int.MaxValue, int skip = 0) : HttpPipelinePolicy
{
    private int _corrupted;
    private int _seen;

    public int Corrupted => Math.Min(Volatile.Read(ref _corrupted), limit);

    public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        CorruptRequest(message);
        await ProcessNextAsync(message, pipeline);
        if (SelectsResponse(message) && message.Response.ContentStream is { } body)
        {
            using var buffer = new MemoryStream();
            await body.CopyToAsync(buffer);
            message.Response.ContentStream = Flip(buffer.ToArray());
        }
    }

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        CorruptRequest(message);
        ProcessNext(message, pipeline);
        if (SelectsResponse(message) && message.Response.ContentStream is { } body)
        {
            using var buffer = new MemoryStream();
            body.CopyTo(buffer);
            message.Response.ContentStream = Flip(buffer.ToArray());
        }
    }

    /// <summary>Blob reads: GET of a blob that returned bytes.</summary>
    private bool SelectsResponse(HttpMessage message) =>
        responses && message.Request.Method == RequestMethod.Get && message.Response.Status is 200 or 206 && !message.Request.Uri.Query.Contains("comp=", StringComparison.Ordinal);

    /// <summary>Blob writes that carry data: Put Blob and Put Block (not the block list).</summary>
    private void CorruptRequest(HttpMessage message)
    {
        string query = message.Request.Uri.Query;
        if (requests && message.Request.Method == RequestMethod.Put && message.Request.Content is { } content
            && !query.Contains("comp=blocklist", StringComparison.Ordinal) && !query.Contains("restype=container", StringComparison.Ordinal))
        {
            message.Request.Content = new FlippedContent(content, this);
        }
    }

    private MemoryStream Flip(byte[] bytes)
    {
        if (bytes.Length > 0 && Interlocked.Increment(ref _seen) > skip && Interlocked.Increment(ref _corrupted) <= limit)
        {
            bytes[bytes.Length / 2] ^= 0x01;
        }

        return new MemoryStream(bytes);
    }

    private sealed class FlippedContent(RequestContent inner, CorruptingPolicy owner) : RequestContent
    {
        public override async Task WriteToAsync(Stream stream, CancellationToken cancellation)
        {
            using var buffer = new MemoryStream();
            await inner.WriteToAsync(buffer, cancellation);
            await owner.Flip(buffer.ToArray()).CopyToAsync(stream, cancellation);
        }

        public override void WriteTo(Stream stream, CancellationToken cancellation)
        {
            using var buffer = new MemoryStream();
            inner.WriteTo(buffer, cancellation);
            owner.Flip(buffer.ToArray()).CopyTo(stream);
        }

        public override bool TryComputeLength(out long length) => inner.TryComputeLength(out length);

        public override void Dispose() => inner.Dispose();
    }
}
