using System.Globalization;
using CommerceMM.Coordinator.Contracts;
using CommerceMM.Coordinator.Grains;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;

namespace CommerceMM.Coordinator.Api;

/// <summary>
/// The rendezvous keys ranks meet through to form their collectives, one set per generation, behind the job token like
/// every worker endpoint. The key travels in the query string: keys may hold '/', which a path segment cannot carry.
/// </summary>
internal static class RendezvousApi
{
    // The base64 of the largest value, plus room for the JSON around it.
    private const long MaxSetBodyBytes = (RendezvousLimits.MaxValueBytes + 2) / 3 * 4 + 1024;

    public static RouteGroupBuilder MapRendezvousApi(this RouteGroupBuilder jobs)
    {
        jobs.MapPut("/rendezvous/{generation}/keys", SetAsync).WithName("SetRendezvousKey")
            .WithSummary("Set a rendezvous key of the current generation.")
            .WithMetadata(new RequestSizeLimitAttribute(MaxSetBodyBytes));
        jobs.MapGet("/rendezvous/{generation}/keys", GetAsync).WithName("GetRendezvousKey")
            .WithSummary("Read a rendezvous key of the current generation, waiting up to waitSeconds for it to be set.");
        return jobs;
    }

    public static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> SetAsync(
        string job, long generation, string? key, RendezvousSetRequest? request, [AsParameters] ApiServices services)
    {
        var validation = RequestValidation.Body(request).Generation(generation).RendezvousKey(key);
        if (request is not null)
        {
            validation.Check(request.Value is not null && request.Value.Length <= RendezvousLimits.MaxValueBytes,
                "value", $"required: base64 of at most {RendezvousLimits.MaxValueBytes} bytes");
        }

        if (validation.HasErrors)
        {
            return validation.ToProblem();
        }

        return ApiResults.NoContentOrRefusal(await services.Job(job).Rendezvous.SetAsync(generation, key!, request!.Value!).ConfigureAwait(false));
    }

    public static async Task<Results<Ok<RendezvousValue>, ValidationProblem, ProblemHttpResult>> GetAsync(
        string job, long generation, string? key, double? waitSeconds, [AsParameters] ApiServices services, CancellationToken cancellationToken)
    {
        double wait = waitSeconds ?? 0;
        var validation = new RequestValidation().Generation(generation).RendezvousKey(key)
            .Check(double.IsFinite(wait) && wait >= 0 && wait <= RendezvousLimits.MaxWaitSeconds,
                "waitSeconds", $"must be between 0 and {RendezvousLimits.MaxWaitSeconds.ToString(CultureInfo.InvariantCulture)}");
        if (validation.HasErrors)
        {
            return validation.ToProblem();
        }

        GrainResult<RendezvousValue> result = await services.Job(job).Rendezvous
            .GetAsync(generation, key!, TimeSpan.FromSeconds(wait), cancellationToken).ConfigureAwait(false);
        return result.IsOk ? TypedResults.Ok(result.Value!) : ApiResults.Refusal<RendezvousValue, RendezvousValue>(result);
    }
}
