using CommerceMM.Observability.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;

namespace CommerceMM.Coordinator.Api;

/// <summary>Every route of the coordinator, versioned under <c>/v1</c>; job routes need the job's bearer token.</summary>
public static class CoordinatorApi
{
    public static IEndpointRouteBuilder MapCoordinatorApis(this IEndpointRouteBuilder app)
    {
        app.MapHealthApi();
        // Open like /healthz: Prometheus scrapes without the job token, and the fleet figures hold no secret.
        app.MapPrometheusMetrics("/metrics");
        app.MapGroup("/v1/jobs/{job}")
            .WithMetadata(new RequiresJobTokenMetadata())
            .MapWorkerApi()
            .MapRendezvousApi()
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
