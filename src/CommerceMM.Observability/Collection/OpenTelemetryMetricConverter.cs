using System.Globalization;
using CommerceMM.Observability.Exposition;
using OpenTelemetry.Metrics;

namespace CommerceMM.Observability.Collection;

/// <summary>Turns OpenTelemetry SDK metrics (cumulative) into exposition families.</summary>
internal static class OpenTelemetryMetricConverter
{
    /// <summary>Converts one metric, or returns null for a type we never configure (exponential histograms).</summary>
    public static MetricFamily? Convert(Metric metric)
    {
        var kind = metric.MetricType switch
        {
            MetricType.LongSum or MetricType.DoubleSum => MetricKind.Counter,
            // Up-down counters can fall, which a Prometheus counter must not: they are gauges there.
            MetricType.LongSumNonMonotonic or MetricType.DoubleSumNonMonotonic => MetricKind.Gauge,
            MetricType.LongGauge or MetricType.DoubleGauge => MetricKind.Gauge,
            MetricType.Histogram => MetricKind.Histogram,
            _ => (MetricKind?)null,
        };
        if (kind is null) return null;

        var name = metric.Name;
        if (kind == MetricKind.Counter && !name.EndsWith("_total", StringComparison.Ordinal))
        {
            name += "_total";
        }
        var help = string.IsNullOrWhiteSpace(metric.Description) ? name : metric.Description;

        var points = new List<SeriesPoint>();
        foreach (ref readonly var point in metric.GetMetricPoints())
        {
            var labels = Labels(point);
            points.Add(metric.MetricType switch
            {
                MetricType.Histogram => Histogram(labels, point),
                MetricType.LongSum or MetricType.LongSumNonMonotonic => new ValuePoint(labels, point.GetSumLong()),
                MetricType.DoubleSum or MetricType.DoubleSumNonMonotonic => new ValuePoint(labels, point.GetSumDouble()),
                MetricType.LongGauge => new ValuePoint(labels, point.GetGaugeLastValueLong()),
                _ => new ValuePoint(labels, point.GetGaugeLastValueDouble()),
            });
        }
        return new MetricFamily(name, help, kind.Value, points);
    }

    private static HistogramPoint Histogram(List<KeyValuePair<string, string>> labels, in OpenTelemetry.Metrics.MetricPoint point)
    {
        var bounds = new List<double>();
        var counts = new List<long>();
        foreach (var bucket in point.GetHistogramBuckets())
        {
            // OpenTelemetry's last bucket has bound +Inf; the writer adds that bucket itself.
            if (!double.IsPositiveInfinity(bucket.ExplicitBound)) bounds.Add(bucket.ExplicitBound);
            counts.Add(bucket.BucketCount);
        }
        return new HistogramPoint(labels, bounds, counts, point.GetHistogramSum());
    }

    private static List<KeyValuePair<string, string>> Labels(in OpenTelemetry.Metrics.MetricPoint point)
    {
        var labels = new List<KeyValuePair<string, string>>(point.Tags.Count);
        foreach (var tag in point.Tags)
        {
            var value = tag.Value switch
            {
                null => string.Empty,
                string s => s,
                IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
                var other => other.ToString() ?? string.Empty,
            };
            labels.Add(new(tag.Key, value));
        }
        return labels;
    }
}
