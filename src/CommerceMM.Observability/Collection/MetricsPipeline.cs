using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;

namespace CommerceMM.Observability.Collection;

/// <summary>
/// The OpenTelemetry <see cref="MeterProvider"/> listening to our meters with the OpenTelemetry Prometheus exporter
/// (OpenTelemetry.Exporter.Prometheus.AspNetCore), and optionally an OTLP exporter beside it. One per process.
/// </summary>
/// <remarks>
/// <para>
/// Create it before the work starts: a synchronous instrument's measurements are dropped while no listener is attached, so
/// a loss recorded before the provider exists is lost.
/// </para>
/// <para>
/// The exporter is set to print our instrument names as they are (<see cref="Metrics.MetricNames"/> already reads as Prometheus:
/// base units in the name, <c>_total</c> on counters), with no <c>target_info</c> and no <c>otel_scope_*</c> labels, and every
/// scrape gets text format 0.0.4 uncompressed, whatever its Accept headers ask (promtool reads that format, not the
/// exporter's OpenMetrics).
/// </para>
/// </remarks>
public sealed class MetricsPipeline : IDisposable
{
    /// <summary>What every scrape is answered with: Prometheus text format 0.0.4.</summary>
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    private readonly MeterProvider provider;
    private readonly bool ownsProvider;
    private readonly StepConsistency[] gates;
    private readonly Lazy<(ServiceProvider Services, RequestDelegate Handler)> inProcess;

    private MetricsPipeline(MeterProvider provider, bool ownsProvider, MetricsOptions options)
    {
        this.provider = provider;
        this.ownsProvider = ownsProvider;
        gates = [.. options.MeterNames.Distinct(StringComparer.Ordinal).Select(StepConsistency.For)];
        inProcess = new(BuildInProcessHandler, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>The provider, for <c>MapPrometheusScrapingEndpoint</c> and the like.</summary>
    public MeterProvider MeterProvider => provider;

    /// <summary>Starts listening to <see cref="MetricsOptions.MeterNames"/>, with a provider of its own.</summary>
    /// <exception cref="ArgumentException">An option is invalid (the message names it).</exception>
    public static MetricsPipeline Create(MetricsOptions? options = null)
    {
        options ??= new MetricsOptions();
        options.Validate();
        var builder = Sdk.CreateMeterProviderBuilder();
        Configure(builder, options);
        var provider = builder.Build()
            ?? throw new InvalidOperationException("The OpenTelemetry SDK returned no meter provider (is OTEL_SDK_DISABLED set?).");
        return new MetricsPipeline(provider, ownsProvider: true, options);
    }

    /// <summary>A pipeline over a provider that <see cref="Configure"/> set up and someone else owns (the DI container).</summary>
    internal static MetricsPipeline ForProvider(MeterProvider provider, MetricsOptions options) =>
        new(provider, ownsProvider: false, options);

    /// <summary>Subscribes <paramref name="builder"/> to the meters and adds the exporters, as <paramref name="options"/> say.</summary>
    internal static void Configure(MeterProviderBuilder builder, MetricsOptions options)
    {
        builder.AddMeter([.. options.MeterNames]);
        builder.AddPrometheusExporter(prometheus =>
        {
            // Our names are the Prometheus names already: no unit or _total suffixes added, nothing to escape.
            prometheus.TranslationStrategy = PrometheusAspNetCoreTranslationStrategy.UnderscoreEscapingWithoutSuffixes;
            prometheus.DisableTotalNameSuffixForCounters = true;
            // No otel_scope_name/version labels on every series and no target_info family: the dashboards, alert rules
            // and the label budget know neither (the job, component and instance labels come from Prometheus).
            prometheus.ScopeInfoEnabled = false;
            prometheus.TargetInfoEnabled = false;
            prometheus.ScrapeResponseCacheDurationMilliseconds = (int)options.ScrapeCacheDuration.TotalMilliseconds;
            prometheus.ScrapeResponseTimeoutMilliseconds = (int)options.CollectTimeout.TotalMilliseconds;
        });
        if (options.EnableOtlp)
        {
            var endpoint = options.OtlpEndpoint;
            builder.AddOtlpExporter(otlp =>
            {
                if (endpoint is not null) otlp.Endpoint = endpoint;
            });
        }
    }

    /// <summary>
    /// Puts this pipeline's handling in front of the exporter's middleware in a scrape branch (the
    /// <c>configureBranchedPipeline</c> of the exporter's Map/Use extensions).
    /// </summary>
    internal void ConfigureScrapeBranch(IApplicationBuilder branch) =>
        branch.Use(next => context => HandleScrapeAsync(context, next));

    /// <summary>Collects now, through the same handling as the HTTP endpoint, and returns the text format 0.0.4 body.</summary>
    /// <exception cref="InvalidOperationException">The exporter answered with an error status (a collection that failed or timed out).</exception>
    public async Task<string> ScrapeAsync(CancellationToken cancellationToken = default)
    {
        var context = new DefaultHttpContext { RequestAborted = cancellationToken };
        context.Request.Method = HttpMethods.Get;
        context.Request.Path = "/metrics";
        using var body = new MemoryStream();
        context.Response.Body = body;
        await inProcess.Value.Handler(context).ConfigureAwait(false);
        if (context.Response.StatusCode != StatusCodes.Status200OK)
        {
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                $"The OpenTelemetry Prometheus exporter answered the scrape with HTTP {context.Response.StatusCode}."));
        }
        return Encoding.UTF8.GetString(body.GetBuffer(), 0, (int)body.Length);
    }

    /// <summary>Collects now and returns text format 0.0.4 (for tests and tools; blocks on <see cref="ScrapeAsync"/>).</summary>
    public string Scrape() => ScrapeAsync().GetAwaiter().GetResult();

    public void Dispose()
    {
        if (inProcess.IsValueCreated) inProcess.Value.Services.Dispose();
        if (ownsProvider) provider.Dispose();
    }

    private async Task HandleScrapeAsync(HttpContext context, RequestDelegate exporter)
    {
        // Without Accept the exporter falls back to text format 0.0.4. Prometheus asks for OpenMetrics first, which promtool
        // cannot check and the dashboards were never tested on; gzip would spend the training machine's CPU on a few kB.
        context.Request.Headers.Accept = default;
        context.Request.Headers.AcceptEncoding = default;
        // A scrape must never be served from an HTTP cache: the values are only true right now.
        context.Response.Headers.CacheControl = "no-store";

        // Recordings made from here until the response starts wait (StepConsistency). The exporter collects on a
        // thread-pool thread of its own while this request awaits it, and writes the response only after collecting.
        var ended = 0;
        void End()
        {
            if (Interlocked.Exchange(ref ended, 1) != 0) return;
            foreach (var gate in gates) gate.EndScrape();
        }
        foreach (var gate in gates) gate.BeginScrape();
        try
        {
            context.Response.OnStarting(() =>
            {
                End();
                return Task.CompletedTask;
            });
            await exporter(context).ConfigureAwait(false);
        }
        finally
        {
            End();
        }
    }

    /// <summary>The exporter's scrape branch on a private application builder, for <see cref="ScrapeAsync"/>.</summary>
    private (ServiceProvider, RequestDelegate) BuildInProcessHandler()
    {
        var services = new ServiceCollection().BuildServiceProvider();
        var app = new ApplicationBuilder(services);
        app.UseOpenTelemetryPrometheusScrapingEndpoint(provider, predicate: static _ => true, path: null, ConfigureScrapeBranch, optionsName: null);
        return (services, app.Build());
    }
}
