using System.Text;

namespace CommerceMM.Observability.Exposition;

/// <summary>
/// Writes Prometheus text exposition format 0.0.4. Ours because OpenTelemetry's Prometheus exporter
/// cannot be restored here (PLATFORM.md).
/// </summary>
/// <remarks>
/// Output is deterministic: families by name, points by their sorted label set, so two scrapes of the
/// same state are byte-equal and golden tests stay stable. Families that share a name after
/// sanitising are merged (two meters in one process may both export checkpoint gauges); the first
/// family's type and help win, and a later point with an identical label set is dropped, because a
/// repeated series makes Prometheus reject the whole scrape.
/// </remarks>
public static class PrometheusTextWriter
{
    /// <summary>The Content-Type of this format.</summary>
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    /// <summary>Renders <paramref name="families"/> to a string.</summary>
    public static string Write(IEnumerable<MetricFamily> families)
    {
        var builder = new StringBuilder(4096);
        using (var writer = new StringWriter(builder, System.Globalization.CultureInfo.InvariantCulture))
        {
            Write(writer, families);
        }
        return builder.ToString();
    }

    /// <summary>Renders <paramref name="families"/> to <paramref name="writer"/> with '\n' line ends.</summary>
    public static void Write(TextWriter writer, IEnumerable<MetricFamily> families)
    {
        foreach (var family in Merge(families))
        {
            var name = family.Name;
            writer.Write($"# HELP {name} {PrometheusNaming.EscapeHelp(family.Help)}\n");
            writer.Write($"# TYPE {name} {TypeName(family.Kind)}\n");
            foreach (var (labels, point) in family.Points)
            {
                if (family.Kind == MetricKind.Histogram && point is HistogramPoint histogram)
                {
                    WriteHistogram(writer, name, labels, histogram);
                }
                else if (point is ValuePoint value)
                {
                    WriteSample(writer, name, labels, extraLabel: null, PrometheusNaming.FormatValue(value.Value));
                }
                // A point whose shape does not match its family's type is skipped: it can only come
                // from merging two same-named instruments of different kinds.
            }
        }
    }

    private static void WriteHistogram(TextWriter writer, string name, string labels, HistogramPoint point)
    {
        if (point.BucketCounts.Count != point.UpperBounds.Count + 1)
        {
            throw new ArgumentException(
                $"Histogram '{name}' has {point.UpperBounds.Count} bounds but {point.BucketCounts.Count} bucket counts; expected one more count than bounds (the +Inf bucket).");
        }
        long cumulative = 0;
        for (var i = 0; i < point.UpperBounds.Count; i++)
        {
            cumulative += point.BucketCounts[i];
            var le = PrometheusNaming.FormatValue(point.UpperBounds[i]);
            WriteSample(writer, name + "_bucket", labels, ("le", le), cumulative.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        cumulative += point.BucketCounts[^1];
        var count = cumulative.ToString(System.Globalization.CultureInfo.InvariantCulture);
        WriteSample(writer, name + "_bucket", labels, ("le", "+Inf"), count);
        WriteSample(writer, name + "_sum", labels, extraLabel: null, PrometheusNaming.FormatValue(point.Sum));
        WriteSample(writer, name + "_count", labels, extraLabel: null, count);
    }

    private static void WriteSample(
        TextWriter writer, string name, string labels, (string Name, string Value)? extraLabel, string value)
    {
        writer.Write(name);
        if (labels.Length > 0 || extraLabel is not null)
        {
            writer.Write('{');
            writer.Write(labels);
            if (extraLabel is { } extra)
            {
                if (labels.Length > 0) writer.Write(',');
                writer.Write($"{extra.Name}=\"{extra.Value}\"");
            }
            writer.Write('}');
        }
        writer.Write(' ');
        writer.Write(value);
        writer.Write('\n');
    }

    private static string TypeName(MetricKind kind) => kind switch
    {
        MetricKind.Counter => "counter",
        MetricKind.Gauge => "gauge",
        MetricKind.Histogram => "histogram",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown metric kind."),
    };

    /// <summary>A family ready to print: sanitised name and points keyed by their rendered label set.</summary>
    private sealed record RenderedFamily(string Name, string Help, MetricKind Kind, List<(string Labels, SeriesPoint Point)> Points);

    private static IEnumerable<RenderedFamily> Merge(IEnumerable<MetricFamily> families)
    {
        var byName = new SortedDictionary<string, (RenderedFamily Family, HashSet<string> Seen)>(StringComparer.Ordinal);
        foreach (var family in families)
        {
            var name = PrometheusNaming.SanitizeMetricName(family.Name);
            if (!byName.TryGetValue(name, out var entry))
            {
                entry = (new RenderedFamily(name, family.Help, family.Kind, []), new HashSet<string>(StringComparer.Ordinal));
                byName.Add(name, entry);
            }
            foreach (var point in family.Points)
            {
                var labels = RenderLabels(point.Labels);
                if (entry.Seen.Add(labels)) entry.Family.Points.Add((labels, point));
            }
        }
        foreach (var (_, (family, _)) in byName)
        {
            family.Points.Sort((a, b) => string.CompareOrdinal(a.Labels, b.Labels));
            yield return family;
        }
    }

    /// <summary>Renders <c>a="x",b="y"</c> with names sanitised and sorted; "le" is reserved for buckets.</summary>
    private static string RenderLabels(IReadOnlyList<KeyValuePair<string, string>> labels)
    {
        if (labels.Count == 0) return string.Empty;
        var sorted = labels
            .Select(l => (Name: PrometheusNaming.SanitizeLabelName(l.Key), l.Value))
            .OrderBy(l => l.Name, StringComparer.Ordinal);
        return string.Join(',', sorted.Select(l => $"{l.Name}=\"{PrometheusNaming.EscapeLabelValue(l.Value)}\""));
    }
}
