namespace CommerceMM.Torch;

/// <summary>A failure inside libtorch, carrying libtorch's own message (shapes, dtypes, indices).</summary>
public sealed class TorchException : Exception
{
    public TorchException(string message) : base(message) { }
    public TorchException(string message, Exception inner) : base(message, inner) { }
}
