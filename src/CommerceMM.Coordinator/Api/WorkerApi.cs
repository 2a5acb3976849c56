using CommerceMM.Coordinator.Contracts;
using CommerceMM.Coordinator.Grains;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace CommerceMM.Coordinator.Api;

/// <summary>What workers call: join, heartbeat, failure reports, completion.</summary>
internal static class WorkerApi
{
    public static RouteGroupBuilder MapWorkerApi(this RouteGroupBuilder jobs)
    {
        jobs.MapPost("/join", JoinAsync).WithName("Join").WithSummary("Join the current rendezvous; poll until assigned.");
        jobs.MapPost("/heartbeat", HeartbeatAsync).WithName("Heartbeat").WithSummary("Report progress; the reply carries an order.");
        jobs.MapPost("/failures", ReportFailureAsync).WithName("ReportFailure").WithSummary("Report a failed collective (bumps the generation) or a fatal error (fails the job).");
        jobs.MapPost("/complete", CompleteAsync).WithName("Complete").WithSummary("Report that training finished.");
        return jobs;
    }

    public static async Task<Results<Ok<JoinResponse>, ValidationProblem, ProblemHttpResult>> JoinAsync(
        string job, JoinRequest? request, [AsParameters] ApiServices services, CancellationToken cancellationToken)
    {
        var validation = RequestValidation.Body(request).WorkerId(request?.WorkerId).Incarnation(request?.Incarnation);
        if (validation.HasErrors)
        {
            return validation.ToProblem();
        }

        JobGrains grains = services.Job(job);
        GrainResult<JoinOutcome> result = await grains.Membership.JoinAsync(request!.WorkerId, request.Incarnation, cancellationToken).ConfigureAwait(false);
        if (!result.IsOk)
        {
            return ApiResults.Refusal<JoinOutcome, JoinResponse>(result);
        }

        JoinOutcome outcome = result.Value!;
        CheckpointStatusView checkpoints = await grains.Checkpoints.GetAsync(cancellationToken).ConfigureAwait(false);
        return TypedResults.Ok(new JoinResponse(
            outcome.Status,
            outcome.Generation,
            outcome.Rank,
            outcome.WorldSize,
            outcome.RetryAfter.TotalSeconds,
            services.Runtime.Liveness.HeartbeatInterval.TotalSeconds,
            checkpoints.LastCommitted?.Step));
    }

    public static async Task<Results<Ok<OrderReply>, ValidationProblem, ProblemHttpResult>> HeartbeatAsync(
        string job, HeartbeatRequest? request, [AsParameters] ApiServices services, CancellationToken cancellationToken)
    {
        var validation = RequestValidation.Body(request);
        if (request is not null)
        {
            validation.WorkerId(request.WorkerId).Generation(request.Generation).Rank(request.Rank).Step(request.Step)
                .Seconds(request.StepSeconds, "stepSeconds").Seconds(request.DataWaitSeconds, "dataWaitSeconds").Seconds(request.AllReduceSeconds, "allReduceSeconds")
                .MetricsUrl(request.MetricsUrl)
                .Check(request.Losses is null || request.Losses.All(l => !string.IsNullOrEmpty(l.Key) && double.IsFinite(l.Value)), "losses", "task names must be non-empty and losses finite");
        }

        if (validation.HasErrors)
        {
            return validation.ToProblem();
        }

        JobGrains grains = services.Job(job);
        JobSnapshot snapshot = await grains.Job.GetAsync(cancellationToken).ConfigureAwait(false);
        CheckpointStatusView checkpoints = await grains.Checkpoints.GetAsync(cancellationToken).ConfigureAwait(false);
        if (snapshot.HasEnded)
        {
            return TypedResults.Ok(Reply(services, WorkerOrder.Stop, snapshot, snapshot.Generation, null, checkpoints, TimeSpan.Zero, snapshot.Reason));
        }

        GrainResult<HeartbeatOutcome> result = await grains.Membership.HeartbeatAsync(request!, cancellationToken).ConfigureAwait(false);
        if (!result.IsOk)
        {
            return ApiResults.Refusal<HeartbeatOutcome, OrderReply>(result);
        }

        HeartbeatOutcome outcome = result.Value!;
        if (outcome.Verdict == HeartbeatVerdict.Rejoin)
        {
            return TypedResults.Ok(Reply(services, WorkerOrder.Rejoin, snapshot, outcome.Generation, null, checkpoints, outcome.Timeout, outcome.Reason));
        }

        services.Fleet.OnHeartbeat(job, request!, outcome.Generation);
        GrainResult<CheckpointOrderView?> order = await grains.Checkpoints.OnProgressAsync(
            outcome.Generation, outcome.WorldSize, request!.Rank, outcome.MaxStep, outcome.LeadSteps, cancellationToken).ConfigureAwait(false);
        if (!order.IsOk)
        {
            return ApiResults.Refusal<CheckpointOrderView?, OrderReply>(order);
        }

        return TypedResults.Ok(order.Value is { } o
            ? Reply(services, WorkerOrder.Checkpoint, snapshot, outcome.Generation, o.Step, checkpoints, outcome.Timeout, o.Reason)
            : Reply(services, WorkerOrder.None, snapshot, outcome.Generation, null, checkpoints, outcome.Timeout, null));
    }

    public static async Task<Results<Ok<OrderReply>, ValidationProblem, ProblemHttpResult>> ReportFailureAsync(
        string job, FailureReport? report, [AsParameters] ApiServices services, CancellationToken cancellationToken)
    {
        var validation = RequestValidation.Body(report);
        if (report is not null)
        {
            validation.WorkerId(report.WorkerId).Generation(report.Generation).Rank(report.Rank)
                .Check(!string.IsNullOrWhiteSpace(report.Reason), "reason", "required: what failed");
        }

        if (validation.HasErrors)
        {
            return validation.ToProblem();
        }

        JobGrains grains = services.Job(job);
        CheckpointStatusView checkpoints = await grains.Checkpoints.GetAsync(cancellationToken).ConfigureAwait(false);
        if (report!.Fatal)
        {
            GrainResult<int> member = await grains.Membership.CheckMemberAsync(report.WorkerId, report.Generation, report.Rank, cancellationToken).ConfigureAwait(false);
            if (!member.IsOk)
            {
                return ApiResults.Refusal<int, OrderReply>(member);
            }

            GrainResult<JobSnapshot> failed = await grains.Job.EndAsync(
                JobState.Failed, $"rank {report.Rank} (worker '{report.WorkerId}') reported a fatal error: {report.Reason}", cancellationToken).ConfigureAwait(false);
            return failed.IsOk
                ? TypedResults.Ok(Reply(services, WorkerOrder.Stop, failed.Value!, failed.Value!.Generation, null, checkpoints, TimeSpan.Zero, failed.Value.Reason))
                : ApiResults.Refusal<JobSnapshot, OrderReply>(failed);
        }

        GrainResult<HeartbeatOutcome> result = await grains.Membership.ReportFailureAsync(report, cancellationToken).ConfigureAwait(false);
        if (!result.IsOk)
        {
            return ApiResults.Refusal<HeartbeatOutcome, OrderReply>(result);
        }

        JobSnapshot snapshot = await grains.Job.GetAsync(cancellationToken).ConfigureAwait(false);
        WorkerOrder order = snapshot.HasEnded ? WorkerOrder.Stop : WorkerOrder.Rejoin;
        return TypedResults.Ok(Reply(services, order, snapshot, result.Value!.Generation, null, checkpoints, result.Value.Timeout, result.Value.Reason ?? snapshot.Reason));
    }

    public static async Task<Results<Ok<OrderReply>, ValidationProblem, ProblemHttpResult>> CompleteAsync(
        string job, CompletionReport? report, [AsParameters] ApiServices services, CancellationToken cancellationToken)
    {
        var validation = RequestValidation.Body(report);
        if (report is not null)
        {
            validation.WorkerId(report.WorkerId).Generation(report.Generation).Rank(report.Rank).Step(report.Step);
        }

        if (validation.HasErrors)
        {
            return validation.ToProblem();
        }

        JobGrains grains = services.Job(job);
        GrainResult<int> member = await grains.Membership.CheckMemberAsync(report!.WorkerId, report.Generation, report.Rank, cancellationToken).ConfigureAwait(false);
        if (!member.IsOk)
        {
            return ApiResults.Refusal<int, OrderReply>(member);
        }

        // Ranks step in lockstep (every step ends in an all-reduce), so one rank's completion is the job's.
        GrainResult<JobSnapshot> ended = await grains.Job.EndAsync(
            JobState.Completed, $"rank {report.Rank} finished at step {report.Step}", cancellationToken).ConfigureAwait(false);
        if (!ended.IsOk)
        {
            return ApiResults.Refusal<JobSnapshot, OrderReply>(ended);
        }

        CheckpointStatusView checkpoints = await grains.Checkpoints.GetAsync(cancellationToken).ConfigureAwait(false);
        return TypedResults.Ok(Reply(services, WorkerOrder.Stop, ended.Value!, ended.Value!.Generation, null, checkpoints, TimeSpan.Zero, ended.Value.Reason));
    }

    private static OrderReply Reply(
        ApiServices services, WorkerOrder order, JobSnapshot job, long generation, long? checkpointStep, CheckpointStatusView checkpoints, TimeSpan timeout, string? reason) =>
        new(order, generation, checkpointStep, job.State, checkpoints.LastCommitted?.Step,
            services.Runtime.Liveness.HeartbeatInterval.TotalSeconds, timeout.TotalSeconds, reason);
}
