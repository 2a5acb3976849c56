using CommerceMM.Observability.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;

namespace CommerceMM.Coordinator.Api;

/// <summary>
/// Every HTTP route of the coordinator, versioned under <c>/v1</c>: status, checkpoints, shards and stop for operators and
/// <c>cmm status</c>, plus probes and <c>/metrics</c>. Job routes need the job's bearer token. Workers call grains instead.
/// </summary>
public static class CoordinatorApi
{
    public static IEndpointRouteBuilder MapCoordinatorApis(this IEndpointRouteBuilder app)
    {
        app.MapHealthApi();
        // Open like /healthz: Prometheus scrapes without the job token, and the fleet figures hold no secret.
        app.MapPrometheusMetrics("/metrics");
        app.MapGroup("/v1/jobs/{job}")
            .WithMetadata(new RequiresJobTokenMetadata())
            .MapCheckpointApi()
            .MapStatusApi();
        return app;
    }

    /// <summary>The middleware the routes rely on (token check), in order; call before <see cref="MapCoordinatorApis"/>.</summary>
    public static IApplicationBuilder UseCoordinator(this IApplicationBuilder app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseRouting();
        app.UseMiddleware<JobTokenMiddleware>();
        return app;
    }
}
