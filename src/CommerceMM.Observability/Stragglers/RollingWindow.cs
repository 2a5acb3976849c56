namespace CommerceMM.Observability.Stragglers;

/// <summary>The last N values in a ring, with a median. Not thread-safe: the detector locks.</summary>
internal sealed class RollingWindow
{
    private readonly double[] values;
    private readonly double[] scratch;
    /// <summary>Slot the next value goes into.</summary>
    private int next;

    public RollingWindow(int capacity)
    {
        values = new double[capacity];
        scratch = new double[capacity];
    }

    /// <summary>Values held, at most the capacity.</summary>
    public int Count { get; private set; }

    public void Add(double value)
    {
        values[next] = value;
        next = (next + 1) % values.Length;
        Count = Math.Min(Count + 1, values.Length);
    }

    /// <summary>The median (mean of the middle two for an even count); NaN when empty.</summary>
    public double Median()
    {
        if (Count == 0) return double.NaN;
        var held = scratch.AsSpan(0, Count);
        values.AsSpan(0, Count).CopyTo(held);
        held.Sort();
        return Median(held);
    }

    /// <summary>The median of an already sorted span.</summary>
    public static double Median(ReadOnlySpan<double> sorted)
    {
        var mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }
}
