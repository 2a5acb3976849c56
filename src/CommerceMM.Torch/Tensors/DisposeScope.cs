namespace CommerceMM.Torch;

/// <summary>
/// Collects every tensor created on this thread while it is the innermost open scope and disposes
/// them when it closes, so a training step can create hundreds of temporaries without a <c>using</c>
/// each. Scopes nest per thread. Escape is explicit: <see cref="MoveToOuter"/> hands a tensor to the
/// enclosing scope (or to no scope), <see cref="Detach"/> removes it from scope management entirely.
/// </summary>
public sealed class DisposeScope : IDisposable
{
    [ThreadStatic] private static DisposeScope? t_current;

    private readonly DisposeScope? _outer;
    private readonly HashSet<Tensor> _tensors = new(ReferenceEqualityComparer.Instance);
    private bool _closed;

    private DisposeScope(DisposeScope? outer) => _outer = outer;

    /// <summary>Opens a scope nested inside the current one.</summary>
    public static DisposeScope Open() => t_current = new DisposeScope(t_current);

    /// <summary>The innermost open scope on this thread, if any.</summary>
    public static DisposeScope? Current => t_current;

    /// <summary>How many tensors this scope will dispose.</summary>
    public int Count => _tensors.Count;

    internal static void Track(Tensor tensor) => t_current?._tensors.Add(tensor);

    internal static void Forget(Tensor tensor)
    {
        for (var scope = t_current; scope is not null; scope = scope._outer)
            if (scope._tensors.Remove(tensor)) return;
    }

    /// <summary>Keeps the tensor alive past this scope by handing it to the enclosing one.</summary>
    public Tensor MoveToOuter(Tensor tensor)
    {
        if (_tensors.Remove(tensor)) _outer?._tensors.Add(tensor);
        return tensor;
    }

    /// <summary>Takes the tensor out of scope management: the caller now owns it.</summary>
    public static Tensor Detach(Tensor tensor)
    {
        Forget(tensor);
        return tensor;
    }

    public void Dispose()
    {
        if (_closed) return;
        if (!ReferenceEquals(t_current, this))
            throw new InvalidOperationException("dispose scopes must be closed innermost first, on the thread that opened them");
        _closed = true;
        t_current = _outer;
        foreach (var tensor in _tensors) tensor.Dispose();
        _tensors.Clear();
    }
}
