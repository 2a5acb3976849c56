using CommerceMM.Observability.Metrics;

namespace CommerceMM.Observability.Collection;

/// <summary>What the metrics pipeline listens to and where else it sends measurements.</summary>
public sealed class MetricsOptions
{
    /// <summary>Default for <see cref="EnableOtlp"/>: off, so nothing leaves the process unless asked.</summary>
    public const bool DefaultEnableOtlp = false;

    /// <summary>Default for <see cref="CollectTimeout"/>.</summary>
    public static readonly TimeSpan DefaultCollectTimeout = TimeSpan.FromSeconds(5);

    /// <summary>Meters to subscribe to.</summary>
    /// <value>Both <see cref="MeterNames.Worker"/> and <see cref="MeterNames.Coordinator"/>.</value>
    public IList<string> MeterNames { get; } = [Metrics.MeterNames.Worker, Metrics.MeterNames.Coordinator];

    /// <summary>Also push to an OTLP collector (periodic, in the background).</summary>
    /// <value><see cref="DefaultEnableOtlp"/>.</value>
    public bool EnableOtlp { get; set; } = DefaultEnableOtlp;

    /// <summary>OTLP endpoint; null leaves the exporter's own default (and its OTEL_EXPORTER_OTLP_* variables).</summary>
    public Uri? OtlpEndpoint { get; set; }

    /// <summary>Longest a scrape waits for the SDK to collect.</summary>
    /// <value>5 seconds.</value>
    public TimeSpan CollectTimeout { get; set; } = DefaultCollectTimeout;

    /// <summary>Throws naming the first bad option.</summary>
    public void Validate()
    {
        if (MeterNames.Count == 0 || MeterNames.Any(string.IsNullOrWhiteSpace))
        {
            throw new ArgumentException($"{nameof(MetricsOptions)}.{nameof(MeterNames)} must list at least one non-empty meter name.");
        }
        if (CollectTimeout <= TimeSpan.Zero || CollectTimeout.TotalMilliseconds > int.MaxValue)
        {
            throw new ArgumentException($"{nameof(MetricsOptions)}.{nameof(CollectTimeout)} must be positive and below 24 days; got {CollectTimeout}.");
        }
        if (OtlpEndpoint is { IsAbsoluteUri: false })
        {
            throw new ArgumentException($"{nameof(MetricsOptions)}.{nameof(OtlpEndpoint)} must be an absolute URI; got '{OtlpEndpoint}'.");
        }
    }
}
