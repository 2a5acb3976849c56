using CommerceMM.Observability.Exposition;
using OpenTelemetry;
using OpenTelemetry.Metrics;

namespace CommerceMM.Observability.Collection;

/// <summary>
/// A pull-only exporter: the SDK calls <see cref="Export"/> synchronously from inside
/// <see cref="MetricReader.Collect"/>, on the scraping thread, and we keep the converted batch.
/// </summary>
/// <remarks>
/// Pull mode stops the SDK from wrapping us in a periodic reader; the Prometheus scrape is the clock.
/// Callers serialise collections (see <see cref="MetricsPipeline"/>), so the field needs no lock.
/// </remarks>
[ExportModes(ExportModes.Pull)]
internal sealed class PullExporter : BaseExporter<Metric>
{
    private List<MetricFamily> lastBatch = [];

    /// <summary>Hands over what the last export converted and starts a fresh batch.</summary>
    public List<MetricFamily> TakeLastBatch()
    {
        var batch = lastBatch;
        lastBatch = [];
        return batch;
    }

    public override ExportResult Export(in Batch<Metric> batch)
    {
        foreach (var metric in batch)
        {
            if (OpenTelemetryMetricConverter.Convert(metric) is { } family) lastBatch.Add(family);
        }
        return ExportResult.Success;
    }
}
