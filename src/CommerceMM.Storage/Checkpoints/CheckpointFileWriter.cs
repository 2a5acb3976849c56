using System.Security.Cryptography;
using CommerceMM.Storage.Blobs;

namespace CommerceMM.Storage.Checkpoints;

/// <summary>Uploads one checkpoint file and returns its manifest entry (size and SHA-256 of exactly the bytes sent).</summary>
public static class CheckpointFileWriter
{
    /// <summary>
    /// Writes <paramref name="content"/> as <paramref name="path"/> of step <paramref name="step"/>. Refuses when the step
    /// already has a manifest: a committed checkpoint is immutable, and overwriting one of its files would corrupt it.
    /// </summary>
    /// <remarks>The write itself is unconditional so that a save interrupted at this step (no manifest) can be redone.</remarks>
    public static async Task<CheckpointFileEntry> WriteAsync(
        IBlobStore store, string job, long step, string path, ReadOnlyMemory<byte> content, int rank, CancellationToken cancellationToken = default)
    {
        await EnsureNotCommittedAsync(store, job, step, cancellationToken).ConfigureAwait(false);
        return await WriteUncheckedAsync(store, job, step, path, content, rank, cancellationToken).ConfigureAwait(false);
    }

    /// <summary><see cref="WriteAsync"/> without the committed-step check, for callers that made it once for many files.</summary>
    internal static async Task<CheckpointFileEntry> WriteUncheckedAsync(
        IBlobStore store, string job, long step, string path, ReadOnlyMemory<byte> content, int rank, CancellationToken cancellationToken)
    {
        string key = CheckpointLayout.FileKey(job, step, path);
        string sha256 = Convert.ToHexStringLower(SHA256.HashData(content.Span));
        using var stream = new ReadOnlyMemoryStream(content);
        BlobWriteResult result = await store.PutAsync(key, stream, BlobCondition.None, cancellationToken).ConfigureAwait(false);
        if (!result.Succeeded)
        {
            throw new CheckpointException($"Writing checkpoint file '{key}' was refused by the store ({result.Status}).");
        }

        return new CheckpointFileEntry(path, content.Length, sha256, rank);
    }

    /// <summary>Throws when step <paramref name="step"/> of <paramref name="job"/> already has a manifest.</summary>
    public static async Task EnsureNotCommittedAsync(IBlobStore store, string job, long step, CancellationToken cancellationToken)
    {
        if (await store.GetPropertiesAsync(CheckpointLayout.ManifestKey(job, step), cancellationToken).ConfigureAwait(false) is not null)
        {
            throw new CheckpointException($"Checkpoint step {step} of job '{job}' is already committed (it has a manifest); its files cannot be rewritten.");
        }
    }

    /// <summary>A read-only stream over memory without copying it (MemoryStream needs an array).</summary>
    private sealed class ReadOnlyMemoryStream(ReadOnlyMemory<byte> memory) : Stream
    {
        private int _position;

        public override bool CanRead => true;

        public override bool CanSeek => true;

        public override bool CanWrite => false;

        public override long Length => memory.Length;

        public override long Position
        {
            get => _position;
            set => _position = (int)Math.Clamp(value, 0, memory.Length);
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            int n = Math.Min(buffer.Length, memory.Length - _position);
            memory.Span.Slice(_position, n).CopyTo(buffer);
            _position += n;
            return n;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(Read(buffer.Span));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            Task.FromResult(Read(buffer.AsSpan(offset, count)));

        public override long Seek(long offset, SeekOrigin origin)
        {
            Position = origin switch
            {
                SeekOrigin.Begin => offset,
                SeekOrigin.Current => _position + offset,
                _ => memory.Length + offset,
            };
            return _position;
        }

        public override void Flush()
        {
        }

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
