using CommerceMM.Coordinator.Contracts;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace CommerceMM.Coordinator.Api;

internal static class HealthApi
{
    /// <summary><c>/healthz</c>: anonymous, cheap, touches no entity (a liveness probe must not queue behind a commit).</summary>
    public static IEndpointRouteBuilder MapHealthApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/healthz", () => TypedResults.Ok(new HealthView("ok"))).WithName("Health").WithSummary("Liveness probe (no token needed).");
        return app;
    }
}
