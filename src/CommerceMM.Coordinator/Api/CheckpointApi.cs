using CommerceMM.Coordinator.Contracts;
using CommerceMM.Coordinator.Grains;
using CommerceMM.Storage.Blobs;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace CommerceMM.Coordinator.Api;

/// <summary>What is committed and what is ordered, for operators (workers order and vote through their gateway grain).</summary>
internal static class CheckpointApi
{
    public static RouteGroupBuilder MapCheckpointApi(this RouteGroupBuilder jobs)
    {
        RouteGroupBuilder group = jobs.MapGroup("/checkpoints");
        group.MapGet("/", GetAsync).WithName("GetCheckpoints").WithSummary("The open order and the last committed checkpoint.");
        return jobs;
    }

    public static async Task<Ok<CheckpointStatusView>> GetAsync(string job, [AsParameters] ApiServices services, CancellationToken cancellationToken) =>
        TypedResults.Ok(await services.Job(job).Checkpoints.GetAsync(cancellationToken).ConfigureAwait(false));
}
