using System.Text;
using CommerceMM.Observability.Exposition;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;

namespace CommerceMM.Observability.Collection;

/// <summary>
/// The OpenTelemetry <see cref="MeterProvider"/> listening to our meters, with a pull reader that a
/// scrape drives, and optionally an OTLP exporter beside it. One per process.
/// </summary>
/// <remarks>
/// Create it before the work starts: a synchronous instrument's measurements are dropped while no
/// listener is attached, so a loss recorded before the provider exists is lost.
/// </remarks>
public sealed class MetricsPipeline : IDisposable
{
    private readonly MeterProvider provider;
    private readonly BaseExportingMetricReader reader;
    private readonly int collectTimeoutMs;
    /// <summary>Serialises scrapes: the SDK runs one collection of a reader at a time anyway.</summary>
    private readonly Lock collectLock = new();

    private MetricsPipeline(MeterProvider provider, BaseExportingMetricReader reader, int collectTimeoutMs)
    {
        this.provider = provider;
        this.reader = reader;
        this.collectTimeoutMs = collectTimeoutMs;
    }

    /// <summary>Starts listening to <see cref="MetricsOptions.MeterNames"/>.</summary>
    /// <exception cref="ArgumentException">An option is invalid (the message names it).</exception>
    public static MetricsPipeline Create(MetricsOptions? options = null)
    {
        options ??= new MetricsOptions();
        options.Validate();

        var exporter = new PullExporter();
        // Cumulative is what Prometheus expects of counters and histograms (and the reader's default).
        var reader = new BaseExportingMetricReader(exporter) { TemporalityPreference = MetricReaderTemporalityPreference.Cumulative };
        var builder = Sdk.CreateMeterProviderBuilder()
            .AddMeter([.. options.MeterNames])
            .AddReader(reader);
        if (options.EnableOtlp)
        {
            var endpoint = options.OtlpEndpoint;
            builder.AddOtlpExporter(otlp =>
            {
                if (endpoint is not null) otlp.Endpoint = endpoint;
            });
        }
        var provider = builder.Build()
            ?? throw new InvalidOperationException("The OpenTelemetry SDK returned no meter provider (is OTEL_SDK_DISABLED set?).");
        return new MetricsPipeline(provider, reader, (int)options.CollectTimeout.TotalMilliseconds);
    }

    /// <summary>Collects now and returns the families (for tests and for callers that add their own).</summary>
    public IReadOnlyList<MetricFamily> Collect()
    {
        lock (collectLock)
        {
            List<MetricFamily> families;
            bool succeeded;
            lock (StepConsistency.Gate) families = PullExporter.Capture(() => reader.Collect(collectTimeoutMs), out succeeded);
            if (!succeeded)
            {
                throw new TimeoutException($"OpenTelemetry did not finish collecting within {collectTimeoutMs} ms.");
            }
            return families;
        }
    }

    /// <summary>Collects now and renders text format 0.0.4.</summary>
    public string Scrape() => PrometheusTextWriter.Write(Collect());

    /// <summary>Collects now and writes UTF-8 text format 0.0.4 to <paramref name="stream"/>.</summary>
    public async Task WriteAsync(Stream stream, CancellationToken cancellationToken = default)
    {
        // Rendered in memory first so the collection lock is never held across network writes.
        var bytes = Encoding.UTF8.GetBytes(Scrape());
        await stream.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
    }

    public void Dispose() => provider.Dispose();
}
