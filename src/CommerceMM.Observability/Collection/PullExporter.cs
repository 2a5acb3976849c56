using CommerceMM.Observability.Exposition;
using OpenTelemetry;
using OpenTelemetry.Metrics;

namespace CommerceMM.Observability.Collection;

/// <summary>
/// Keeps what a scrape collects: <see cref="MetricsPipeline"/> calls <see cref="MetricReader.Collect"/>,
/// and the SDK calls <see cref="Export"/> synchronously on that same thread.
/// </summary>
/// <remarks>
/// No <c>[ExportModes(Pull)]</c>: the SDK only lets a pull-only reader collect through an internal
/// interface, so we stay push-capable and simply never give the reader a timer. The SDK also
/// collects on flush and shutdown; those exports happen outside a scrape and are dropped by the
/// thread check, so they can never leak into a scrape running at the same time.
/// </remarks>
internal sealed class PullExporter : BaseExporter<Metric>
{
    /// <summary>The batch of the scrape running on this thread; null outside a scrape.</summary>
    [ThreadStatic]
    private static List<MetricFamily>? currentScrape;

    /// <summary>Runs <paramref name="collect"/> and returns what it exported.</summary>
    public static List<MetricFamily> Capture(Func<bool> collect, out bool succeeded)
    {
        var batch = new List<MetricFamily>();
        currentScrape = batch;
        try
        {
            succeeded = collect();
        }
        finally
        {
            currentScrape = null;
        }
        return batch;
    }

    public override ExportResult Export(in Batch<Metric> batch)
    {
        if (currentScrape is not { } target) return ExportResult.Success;
        foreach (var metric in batch)
        {
            if (OpenTelemetryMetricConverter.Convert(metric) is { } family) target.Add(family);
        }
        return ExportResult.Success;
    }
}
