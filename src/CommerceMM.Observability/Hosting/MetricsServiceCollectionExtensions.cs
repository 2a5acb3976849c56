using CommerceMM.Observability.Collection;
using CommerceMM.Observability.Coordinator;
using CommerceMM.Observability.Stragglers;
using CommerceMM.Observability.Worker;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace CommerceMM.Observability.Hosting;

/// <summary>Registers the metrics pipeline and the two recorders.</summary>
public static class MetricsServiceCollectionExtensions
{
    /// <summary>
    /// Adds a singleton <see cref="MetricsPipeline"/> (configured by <paramref name="configure"/>),
    /// and singletons <see cref="TrainingMetrics"/> and <see cref="FleetMetrics"/> on the default meter
    /// names, using the registered <see cref="TimeProvider"/> and <see cref="StragglerOptions"/> if any.
    /// </summary>
    /// <remarks>
    /// <see cref="PrometheusEndpointExtensions.MapPrometheusMetrics"/> resolves the pipeline when the
    /// app is built, so it listens before the first measurement.
    /// </remarks>
    public static IServiceCollection AddCommerceMMMetrics(this IServiceCollection services, Action<MetricsOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton(_ =>
        {
            var options = new MetricsOptions();
            configure?.Invoke(options);
            return MetricsPipeline.Create(options);
        });
        services.TryAddSingleton(sp => new TrainingMetrics(sp.GetService<TimeProvider>()));
        services.TryAddSingleton(sp => new FleetMetrics(sp.GetService<StragglerOptions>(), sp.GetService<TimeProvider>()));
        return services;
    }
}
