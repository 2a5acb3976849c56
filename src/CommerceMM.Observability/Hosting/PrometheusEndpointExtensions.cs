using CommerceMM.Observability.Collection;
using CommerceMM.Observability.Exposition;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace CommerceMM.Observability.Hosting;

/// <summary>Maps the Prometheus scrape endpoint.</summary>
public static class PrometheusEndpointExtensions
{
    /// <summary>
    /// Maps GET <paramref name="pattern"/> to a fresh collection of the registered
    /// <see cref="MetricsPipeline"/>, as <c>text/plain; version=0.0.4</c>.
    /// </summary>
    /// <exception cref="InvalidOperationException">No pipeline is registered (call <see cref="MetricsServiceCollectionExtensions.AddCommerceMMMetrics"/>).</exception>
    public static IEndpointConventionBuilder MapPrometheusMetrics(this IEndpointRouteBuilder endpoints, string pattern = "/metrics")
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        // Resolved now, not on the first scrape: measurements made before a listener exists are lost.
        var pipeline = endpoints.ServiceProvider.GetService<MetricsPipeline>()
            ?? throw new InvalidOperationException($"No {nameof(MetricsPipeline)} is registered; call services.{nameof(MetricsServiceCollectionExtensions.AddCommerceMMMetrics)}() first.");
        return endpoints.MapGet(pattern, (HttpContext context) => WriteAsync(context, pipeline))
            .WithName("PrometheusMetrics")
            .ExcludeFromDescription();
    }

    private static async Task WriteAsync(HttpContext context, MetricsPipeline pipeline)
    {
        context.Response.ContentType = PrometheusTextWriter.ContentType;
        // A scrape must never be served from a cache: the values are only true right now.
        context.Response.Headers.CacheControl = "no-store";
        await pipeline.WriteAsync(context.Response.Body, context.RequestAborted).ConfigureAwait(false);
    }
}
