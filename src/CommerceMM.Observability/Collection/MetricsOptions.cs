using CommerceMM.Observability.Metrics;

namespace CommerceMM.Observability.Collection;

/// <summary>What the metrics pipeline listens to, how its scrape endpoint behaves, and where else it sends measurements.</summary>
public sealed class MetricsOptions
{
    /// <summary>Default for <see cref="EnableOtlp"/>: off, so nothing leaves the process unless asked.</summary>
    public const bool DefaultEnableOtlp = false;

    /// <summary>Default for <see cref="CollectTimeout"/>.</summary>
    public static readonly TimeSpan DefaultCollectTimeout = TimeSpan.FromSeconds(5);

    /// <summary>Default for <see cref="ScrapeCacheDuration"/>: none, every scrape collects.</summary>
    public static readonly TimeSpan DefaultScrapeCacheDuration = TimeSpan.Zero;

    /// <summary>Meters to subscribe to.</summary>
    /// <value>Both <see cref="MeterNames.Worker"/> and <see cref="MeterNames.Coordinator"/>.</value>
    public IList<string> MeterNames { get; } = [Metrics.MeterNames.Worker, Metrics.MeterNames.Coordinator];

    /// <summary>Also push to an OTLP collector (periodic, in the background).</summary>
    /// <value><see cref="DefaultEnableOtlp"/>.</value>
    public bool EnableOtlp { get; set; } = DefaultEnableOtlp;

    /// <summary>OTLP endpoint; null leaves the exporter's own default (and its OTEL_EXPORTER_OTLP_* variables).</summary>
    public Uri? OtlpEndpoint { get; set; }

    /// <summary>
    /// Longest a scrape waits for its response (the exporter's <c>ScrapeResponseTimeoutMilliseconds</c>); a scrape past it
    /// gets no metrics rather than holding the collection.
    /// </summary>
    /// <value>5 seconds.</value>
    public TimeSpan CollectTimeout { get; set; } = DefaultCollectTimeout;

    /// <summary>
    /// How long a collected response is served again to later scrapes (the exporter's
    /// <c>ScrapeResponseCacheDurationMilliseconds</c>, whose own default is 300 ms).
    /// </summary>
    /// <value>
    /// Zero: one Prometheus scrapes a target every few seconds, so a cache saves nothing, while it would serve a scrape values
    /// older than what was recorded before it (a test that records then scrapes, a step that ended just before the scrape).
    /// </value>
    public TimeSpan ScrapeCacheDuration { get; set; } = DefaultScrapeCacheDuration;

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
        if (ScrapeCacheDuration < TimeSpan.Zero || ScrapeCacheDuration.TotalMilliseconds > int.MaxValue)
        {
            throw new ArgumentException($"{nameof(MetricsOptions)}.{nameof(ScrapeCacheDuration)} must be zero or positive and below 24 days; got {ScrapeCacheDuration}.");
        }
        if (OtlpEndpoint is { IsAbsoluteUri: false })
        {
            throw new ArgumentException($"{nameof(MetricsOptions)}.{nameof(OtlpEndpoint)} must be an absolute URI; got '{OtlpEndpoint}'.");
        }
    }
}
