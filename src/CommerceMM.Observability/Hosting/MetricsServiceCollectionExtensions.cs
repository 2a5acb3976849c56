using CommerceMM.Observability.Collection;
using CommerceMM.Observability.Coordinator;
using CommerceMM.Observability.Stragglers;
using CommerceMM.Observability.Worker;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using OpenTelemetry.Metrics;

namespace CommerceMM.Observability.Hosting;

/// <summary>Registers the metrics pipeline and the two recorders.</summary>
public static class MetricsServiceCollectionExtensions
{
    /// <summary>
    /// Adds OpenTelemetry metrics through OpenTelemetry.Extensions.Hosting (<c>AddOpenTelemetry().WithMetrics</c>: the
    /// container owns the <see cref="MeterProvider"/> and the host starts it) with the Prometheus exporter, a singleton
    /// <see cref="MetricsPipeline"/> over that provider (configured by <paramref name="configure"/>), and singletons
    /// <see cref="TrainingMetrics"/> and <see cref="FleetMetrics"/> on the default meter names, using the registered
    /// <see cref="TimeProvider"/> and <see cref="StragglerOptions"/> if any.
    /// </summary>
    /// <remarks>
    /// <see cref="PrometheusEndpointExtensions.MapPrometheusMetrics"/> resolves the pipeline (and so builds the provider)
    /// when the app is built, so it listens before the first measurement.
    /// </remarks>
    /// <exception cref="ArgumentException">An option is invalid (the message names it).</exception>
    public static IServiceCollection AddCommerceMMMetrics(this IServiceCollection services, Action<MetricsOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        // Only what is missing, like TryAdd: a second call (or a pipeline registered as an instance) changes nothing.
        if (!services.Any(s => s.ServiceType == typeof(MetricsPipeline)))
        {
            var options = new MetricsOptions();
            configure?.Invoke(options);
            options.Validate();
            services.AddOpenTelemetry().WithMetrics(metrics => MetricsPipeline.Configure(metrics, options));
            services.AddSingleton(sp => MetricsPipeline.ForProvider(sp.GetRequiredService<MeterProvider>(), options));
        }
        services.TryAddSingleton(sp => new TrainingMetrics(sp.GetService<TimeProvider>()));
        services.TryAddSingleton(sp => new FleetMetrics(sp.GetService<StragglerOptions>(), sp.GetService<TimeProvider>()));
        return services;
    }
}
