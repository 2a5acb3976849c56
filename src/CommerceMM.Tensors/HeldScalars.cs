using TorchSharp;
using static TorchSharp.torch;

namespace CommerceMM.Tensors;

/// <summary>
/// The tensor ops our code calls with a number, each holding that number's <see cref="Scalar"/> until the native
/// call has returned. TorchSharp's own number overloads (<c>x * 0.5</c>, <c>x.mul(0.5)</c>) leave the Scalar to its
/// finalizer, which can free it while libtorch still reads it (CONTRIBUTING: Scalars on hot paths); the build
/// refuses them in src/ (CMM0001). An integer argument keeps an integer tensor integer, as in PyTorch.
/// </summary>
public static class HeldScalars
{
    /// <summary>
    /// The alpha of a plain sum. TorchSharp's <c>x + y</c> and <c>x.add(y)</c> make a Scalar of 1 for it on every
    /// call; this one lives as long as the process. An int, as theirs, so integer tensors stay integer.
    /// </summary>
    public static readonly Scalar One = 1.ToScalar();

    private static readonly Scalar Two = 2.ToScalar();

    /// <summary><paramref name="x"/> + <paramref name="other"/>, what <c>x + other</c> computes.</summary>
    public static Tensor Add(this Tensor x, Tensor other) => x.add(other, One);

    /// <summary><paramref name="x"/> + <paramref name="term"/>, for a term the caller holds.</summary>
    public static Tensor Add(this Tensor x, Scalar term) => x.add(term, One);

    /// <summary>x², as TorchSharp's <c>square()</c>, which makes its exponent on every call.</summary>
    public static Tensor Square(this Tensor x) => x.pow(Two);

    public static Tensor Mul(this Tensor x, double factor) => Held(x, factor, static (t, s) => t.mul(s));

    public static Tensor Mul(this Tensor x, long factor) => Held(x, factor, static (t, s) => t.mul(s));

    public static Tensor Div(this Tensor x, double divisor) => Held(x, divisor, static (t, s) => t.div(s));

    public static Tensor Add(this Tensor x, double term) => Held(x, term, static (t, s) => t.add(s, One));

    public static Tensor Add(this Tensor x, long term) => Held(x, term, static (t, s) => t.add(s, One));

    public static Tensor Eq(this Tensor x, long value) => Held(x, value, static (t, s) => t.eq(s));

    public static Tensor Ne(this Tensor x, long value) => Held(x, value, static (t, s) => t.ne(s));

    public static Tensor Lt(this Tensor x, double value) => Held(x, value, static (t, s) => t.lt(s));

    public static Tensor ClampMax(this Tensor x, double max) => Held(x, max, static (t, s) => t.clamp_max(s));

    public static Tensor ClampMin(this Tensor x, double min) => Held(x, min, static (t, s) => t.clamp_min(s));

    public static Tensor MaskedFill(this Tensor x, Tensor mask, double value)
    {
        using var s = value.ToScalar();
        return x.masked_fill(mask, s);
    }

    public static Tensor MaskedFill(this Tensor x, Tensor mask, long value)
    {
        using var s = value.ToScalar();
        return x.masked_fill(mask, s);
    }

    /// <summary>A tensor of <paramref name="shape"/> filled with <paramref name="value"/>.</summary>
    public static Tensor Full(long[] shape, double value, ScalarType dtype, Device device)
    {
        using var s = value.ToScalar();
        return torch.full(shape, s, dtype, device);
    }

    /// <summary>int64 0, 1, …, <paramref name="stop"/> - 1.</summary>
    public static Tensor Arange(long stop, Device device) => Arange(0, stop, device);

    /// <summary>int64 <paramref name="start"/>, …, <paramref name="stop"/> - 1.</summary>
    public static Tensor Arange(long start, long stop, Device device)
    {
        using var first = start.ToScalar();
        using var end = stop.ToScalar();
        using var step = 1L.ToScalar();
        return torch.arange(first, end, step, ScalarType.Int64, device);
    }

    // The op is a static lambda: no allocation per call.
    private static Tensor Held(Tensor x, double value, Func<Tensor, Scalar, Tensor> op)
    {
        using var s = value.ToScalar();
        return op(x, s);
    }

    private static Tensor Held(Tensor x, long value, Func<Tensor, Scalar, Tensor> op)
    {
        using var s = value.ToScalar();
        return op(x, s);
    }
}
