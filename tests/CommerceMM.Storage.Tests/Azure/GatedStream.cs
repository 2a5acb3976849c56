namespace CommerceMM.Storage.Tests.Azure;

/// <summary>Serves bytes, but after <c>gateAt</c> bytes it signals <see cref="Reached"/> and waits for <see cref="Open"/>: a hook to act mid-upload.</summary>
internal sealed class GatedStream(byte[] data, int gateAt) : Stream
{
    private readonly TaskCompletionSource _reached = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _open = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _position;

    public Task Reached => _reached.Task;

    public void Open() => _open.TrySetResult();

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_position >= gateAt)
        {
            _reached.TrySetResult();
            await _open.Task.WaitAsync(cancellationToken);
        }

        int limit = _position < gateAt ? gateAt - _position : data.Length - _position;
        int n = Math.Min(buffer.Length, limit);
        data.AsMemory(_position, n).CopyTo(buffer);
        _position += n;
        return n;
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("async only");

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
