namespace CommerceMM.Observability.Exposition;

/// <summary>The three Prometheus types we emit (no summaries: histograms aggregate across ranks).</summary>
public enum MetricKind
{
    Counter,
    Gauge,
    Histogram,
}

/// <summary>One metric name with its help text, type and points; the unit the exposition writer works on.</summary>
/// <param name="Name">Prometheus name; sanitised by the writer, so any OpenTelemetry name is accepted.</param>
/// <param name="Help">One-line description (HELP); newlines and backslashes are escaped on output.</param>
/// <param name="Kind">The TYPE line; decides how <paramref name="Points"/> are printed.</param>
/// <param name="Points">One per label set; a repeated label set is printed once.</param>
public sealed record MetricFamily(string Name, string Help, MetricKind Kind, IReadOnlyList<SeriesPoint> Points);

/// <summary>A label set and its value(s). Label order does not matter: the writer sorts by name.</summary>
public abstract record SeriesPoint(IReadOnlyList<KeyValuePair<string, string>> Labels);

/// <summary>A counter or gauge sample.</summary>
public sealed record ValuePoint(IReadOnlyList<KeyValuePair<string, string>> Labels, double Value)
    : SeriesPoint(Labels);

/// <summary>
/// A histogram as explicit buckets: <see cref="BucketCounts"/> has one entry per upper bound plus a
/// last one for +Inf, each counting only its own bucket (OpenTelemetry's form). The writer makes
/// them cumulative, so the +Inf bucket always equals the count.
/// </summary>
public sealed record HistogramPoint(
    IReadOnlyList<KeyValuePair<string, string>> Labels,
    IReadOnlyList<double> UpperBounds,
    IReadOnlyList<long> BucketCounts,
    double Sum) : SeriesPoint(Labels)
{
    /// <summary>Total observations: the sum of all buckets.</summary>
    public long Count => BucketCounts.Sum();
}
