using CommerceMM.Observability.Exposition;
using CommerceMM.Observability.Tests.Support;

namespace CommerceMM.Observability.Tests.Exposition;

public sealed class PrometheusTextWriterTests
{
    private static KeyValuePair<string, string> L(string name, string value) => new(name, value);

    [Fact]
    public void Write_CounterAndGauge_MatchesGolden()
    {
        var families = new[]
        {
            new MetricFamily("cmm_task_loss", "Loss per task.", MetricKind.Gauge,
            [
                new ValuePoint([L("task", "mlm")], 2.5),
                new ValuePoint([L("task", "itc")], 0.125),
            ]),
            new MetricFamily("cmm_samples_total", "Samples consumed.", MetricKind.Counter,
            [
                new ValuePoint([L("stream", "pairs")], 64),
            ]),
            new MetricFamily("cmm_generation", "Generation.", MetricKind.Gauge, [new ValuePoint([], 3)]),
        };

        var text = PrometheusTextWriter.Write(families);

        // Families by name, points by label set: the output is byte-stable.
        Assert.Equal(
            """
            # HELP cmm_generation Generation.
            # TYPE cmm_generation gauge
            cmm_generation 3
            # HELP cmm_samples_total Samples consumed.
            # TYPE cmm_samples_total counter
            cmm_samples_total{stream="pairs"} 64
            # HELP cmm_task_loss Loss per task.
            # TYPE cmm_task_loss gauge
            cmm_task_loss{task="itc"} 0.125
            cmm_task_loss{task="mlm"} 2.5

            """.Replace("\r\n", "\n"), text);
    }

    [Fact]
    public void Write_Histogram_MatchesGoldenWithCumulativeBucketsSumAndCount()
    {
        var family = new MetricFamily("cmm_step_duration_seconds", "Step time.", MetricKind.Histogram,
        [
            new HistogramPoint([], [0.1, 0.5, 1], [2, 3, 0, 1], 2.75),
        ]);

        var text = PrometheusTextWriter.Write([family]);

        Assert.Equal(
            """
            # HELP cmm_step_duration_seconds Step time.
            # TYPE cmm_step_duration_seconds histogram
            cmm_step_duration_seconds_bucket{le="0.1"} 2
            cmm_step_duration_seconds_bucket{le="0.5"} 5
            cmm_step_duration_seconds_bucket{le="1"} 5
            cmm_step_duration_seconds_bucket{le="+Inf"} 6
            cmm_step_duration_seconds_sum 2.75
            cmm_step_duration_seconds_count 6

            """.Replace("\r\n", "\n"), text);
    }

    [Fact]
    public void Write_HistogramWithLabels_PutsLeLastAndKeepsInvariants()
    {
        var counts = new long[] { 5, 0, 7, 1, 9 };
        var family = new MetricFamily("h", "h.", MetricKind.Histogram,
            [new HistogramPoint([L("rank", "1")], [0.001, 0.01, 0.1, 10], counts, 12.5)]);

        var samples = Support.Exposition.Samples(PrometheusTextWriter.Write([family]));

        var buckets = samples.Where(s => s.Name == "h_bucket").ToList();
        Assert.All(buckets, b => Assert.StartsWith("rank=\"1\",le=", b.Labels, StringComparison.Ordinal));
        Assert.Equal(counts.Length, buckets.Count);
        // Cumulative counts never fall, and the +Inf bucket equals _count.
        Assert.True(buckets.Zip(buckets.Skip(1)).All(p => p.First.Value <= p.Second.Value));
        Assert.Equal("rank=\"1\",le=\"+Inf\"", buckets[^1].Labels);
        var count = samples.Single(s => s.Name == "h_count").Value;
        Assert.Equal(counts.Sum(), count);
        Assert.Equal(count, buckets[^1].Value);
        Assert.Equal(12.5, samples.Single(s => s.Name == "h_sum").Value);
    }

    [Fact]
    public void Write_HistogramWithWrongBucketCount_ThrowsNamingTheMetric()
    {
        var family = new MetricFamily("bad_seconds", "x", MetricKind.Histogram, [new HistogramPoint([], [1, 2], [1, 2], 3)]);

        var error = Assert.Throws<ArgumentException>(() => PrometheusTextWriter.Write([family]));

        Assert.Contains("bad_seconds", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Write_LabelValueWithBackslashQuoteAndNewline_EscapesAll()
    {
        var family = new MetricFamily("m", "m.", MetricKind.Gauge, [new ValuePoint([L("path", "a\\b\"c\nd")], 1)]);

        var text = PrometheusTextWriter.Write([family]);

        Assert.Contains("m{path=\"a\\\\b\\\"c\\nd\"} 1\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Write_HelpWithBackslashAndNewline_EscapesBothButNotQuotes()
    {
        var family = new MetricFamily("m", "line one\nsays \"C:\\x\"", MetricKind.Gauge, [new ValuePoint([], 1)]);

        var text = PrometheusTextWriter.Write([family]);

        Assert.StartsWith("# HELP m line one\\nsays \"C:\\\\x\"\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Write_InvalidMetricAndLabelNames_Sanitises()
    {
        var family = new MetricFamily("cmm.step-time/seconds", "x", MetricKind.Gauge,
            [new ValuePoint([L("1st.label", "v"), L("__reserved", "w")], 1)]);

        var text = PrometheusTextWriter.Write([family]);

        Assert.Contains("# TYPE cmm_step_time_seconds gauge\n", text, StringComparison.Ordinal);
        Assert.Contains("cmm_step_time_seconds{_1st_label=\"v\",_reserved=\"w\"} 1\n", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(double.NaN, "NaN")]
    [InlineData(double.PositiveInfinity, "+Inf")]
    [InlineData(double.NegativeInfinity, "-Inf")]
    [InlineData(0.1, "0.1")]
    [InlineData(1e-7, "1E-07")]
    [InlineData(123456789012.0, "123456789012")]
    public void Write_SpecialAndOrdinaryValues_UsesPrometheusSpelling(double value, string expected)
    {
        var text = PrometheusTextWriter.Write([new MetricFamily("m", "m.", MetricKind.Gauge, [new ValuePoint([], value)])]);

        Assert.EndsWith($"m {expected}\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Write_SameNameTwiceWithOverlappingSeries_MergesAndKeepsFirstOfEachSeries()
    {
        var first = new MetricFamily("cmm_checkpoint_age_seconds", "From the worker.", MetricKind.Gauge,
            [new ValuePoint([L("a", "1")], 10)]);
        var second = new MetricFamily("cmm_checkpoint_age_seconds", "From the coordinator.", MetricKind.Gauge,
            [new ValuePoint([L("a", "1")], 99), new ValuePoint([L("a", "2")], 20)]);

        var text = PrometheusTextWriter.Write([first, second]);

        Assert.Single(text.Split('\n'), l => l.StartsWith("# TYPE", StringComparison.Ordinal));
        Assert.Contains("# HELP cmm_checkpoint_age_seconds From the worker.\n", text, StringComparison.Ordinal);
        Assert.Contains("cmm_checkpoint_age_seconds{a=\"1\"} 10\n", text, StringComparison.Ordinal);
        Assert.Contains("cmm_checkpoint_age_seconds{a=\"2\"} 20\n", text, StringComparison.Ordinal);
        Assert.DoesNotContain(" 99\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Write_SameInputInAnotherOrder_IsByteEqual()
    {
        ValuePoint P(string rank, double v) => new([L("rank", rank), L("state", "x")], v);
        var a = new MetricFamily("b", "b.", MetricKind.Gauge, [P("2", 1), P("10", 2), P("1", 3)]);
        var b = new MetricFamily("a", "a.", MetricKind.Counter, [new ValuePoint([], 1)]);
        var reversed = new MetricFamily("b", "b.", MetricKind.Gauge, [P("1", 3), P("2", 1), P("10", 2)]);

        Assert.Equal(PrometheusTextWriter.Write([a, b]), PrometheusTextWriter.Write([b, reversed]));
    }
}
