using CommerceMM.Observability.Collection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace CommerceMM.Observability.Hosting;

/// <summary>Maps the Prometheus scrape endpoint.</summary>
public static class PrometheusEndpointExtensions
{
    /// <summary>
    /// Maps GET <paramref name="pattern"/> to the OpenTelemetry Prometheus exporter of the registered
    /// <see cref="MetricsPipeline"/>: a fresh collection per scrape, as <see cref="MetricsPipeline.ContentType"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException">No pipeline is registered (call <see cref="MetricsServiceCollectionExtensions.AddCommerceMMMetrics"/>).</exception>
    public static IEndpointConventionBuilder MapPrometheusMetrics(this IEndpointRouteBuilder endpoints, string pattern = "/metrics")
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        // Resolved now, not on the first scrape: measurements made before a listener exists are lost.
        var pipeline = endpoints.ServiceProvider.GetService<MetricsPipeline>()
            ?? throw new InvalidOperationException($"No {nameof(MetricsPipeline)} is registered; call services.{nameof(MetricsServiceCollectionExtensions.AddCommerceMMMetrics)}() first.");
        return endpoints.MapPrometheusScrapingEndpoint(pattern, pipeline.MeterProvider, pipeline.ConfigureScrapeBranch, optionsName: null)
            .WithMetadata(new HttpMethodMetadata([HttpMethods.Get]))
            .WithName("PrometheusMetrics")
            .ExcludeFromDescription();
    }
}
