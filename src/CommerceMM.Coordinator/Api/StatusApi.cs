using CommerceMM.Coordinator.Contracts;
using CommerceMM.Coordinator.Grains;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace CommerceMM.Coordinator.Api;

/// <summary>What <c>cmm status</c> and operators read, plus stop.</summary>
internal static class StatusApi
{
    public static RouteGroupBuilder MapStatusApi(this RouteGroupBuilder jobs)
    {
        jobs.MapGet("/status", GetStatusAsync).WithName("GetStatus").WithSummary("Job state, generation, members, checkpoints.");
        jobs.MapGet("/spec", GetSpecAsync).WithName("GetSpec").WithSummary("The job spec the coordinator runs.");
        jobs.MapGet("/shards", GetShardsAsync).WithName("GetShards").WithSummary("Partition per rank and the last committed data positions.");
        jobs.MapPost("/stop", StopAsync).WithName("Stop")
            .WithSummary("Stop the job at a checkpoint every rank saves, for good (a relaunch resumes it); with now=true at once, losing the steps since the last commit.");
        return jobs;
    }

    public static async Task<Ok<JobStatusView>> GetStatusAsync(string job, [AsParameters] ApiServices services, CancellationToken cancellationToken) =>
        TypedResults.Ok(await BuildAsync(services, services.Job(job), cancellationToken).ConfigureAwait(false));

    public static async Task<Ok<JobSpec>> GetSpecAsync(string job, [AsParameters] ApiServices services, CancellationToken cancellationToken) =>
        TypedResults.Ok((await services.Job(job).Job.GetAsync(cancellationToken).ConfigureAwait(false)).Spec);

    public static async Task<Ok<ShardLedgerView>> GetShardsAsync(string job, [AsParameters] ApiServices services, CancellationToken cancellationToken) =>
        TypedResults.Ok(await services.Job(job).Ledger.GetAsync(cancellationToken).ConfigureAwait(false));

    public static async Task<Results<Ok<JobStatusView>, ValidationProblem, ProblemHttpResult>> StopAsync(
        string job, string? now, [AsParameters] ApiServices services, CancellationToken cancellationToken)
    {
        // Read here, not bound as a bool: a bad value then gets an answer that names it, not a bare 400.
        bool atOnce = false;
        if (now is not null && !bool.TryParse(now, out atOnce))
        {
            return ApiResults.Refusal<JobSnapshot, JobStatusView>(GrainResult<JobSnapshot>.Invalid("now", $"'{now}' is not true or false"));
        }

        JobGrains grains = services.Job(job);
        // With no ranks training there is nothing to save that the last commit lacks.
        MembershipSnapshot membership = await grains.Membership.GetAsync(cancellationToken).ConfigureAwait(false);
        bool training = !membership.RendezvousOpen && membership.WorldSize > 0;
        GrainResult<JobSnapshot> stopped = training && !atOnce
            ? await grains.Job.RequestStopAsync(cancellationToken).ConfigureAwait(false)
            : await grains.Job.EndAsync(JobState.Stopped, training ? "stopped by request, at once: the steps since the last commit are not saved" : "stopped by request",
                cancellationToken: cancellationToken).ConfigureAwait(false);
        return stopped.IsOk
            ? TypedResults.Ok(await BuildAsync(services, grains, cancellationToken).ConfigureAwait(false))
            : ApiResults.Refusal<JobSnapshot, JobStatusView>(stopped);
    }

    private static async Task<JobStatusView> BuildAsync(ApiServices services, JobGrains grains, CancellationToken cancellationToken)
    {
        // Membership first: its sweep may bump the generation, and the job read after it then shows the bump.
        MembershipSnapshot membership = await grains.Membership.GetAsync(cancellationToken).ConfigureAwait(false);
        JobSnapshot job = await grains.Job.GetAsync(cancellationToken).ConfigureAwait(false);
        CheckpointStatusView checkpoints = await grains.Checkpoints.GetAsync(cancellationToken).ConfigureAwait(false);
        return new JobStatusView(
            job.Spec.Name, job.State, job.Reason, job.Generation, job.Restarts, membership.WorldSize, membership.RendezvousOpen,
            job.Spec.MaxSteps, membership.HeartbeatTimeout.TotalSeconds, services.Fleet.WithStanding(membership.Members), checkpoints.LastCommitted, checkpoints.Pending, membership.Silo,
            checkpoints.LastFailure, job.StopRequested && !job.HasEnded);
    }
}
