using CommerceMM.Coordinator.Contracts;
using CommerceMM.Coordinator.Grains;
using CommerceMM.Storage.Blobs;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace CommerceMM.Coordinator.Api;

/// <summary>The checkpoint hook points: order a checkpoint, vote "saved", read what is committed.</summary>
internal static class CheckpointApi
{
    public static RouteGroupBuilder MapCheckpointApi(this RouteGroupBuilder jobs)
    {
        RouteGroupBuilder group = jobs.MapGroup("/checkpoints");
        group.MapGet("/", GetAsync).WithName("GetCheckpoints").WithSummary("The open order and the last committed checkpoint.");
        group.MapPost("/orders", OrderAsync).WithName("OrderCheckpoint").WithSummary("Order every rank to checkpoint at a step (SIGTERM, operator).");
        group.MapPost("/votes", VoteAsync).WithName("VoteCheckpoint").WithSummary("A rank uploaded its files; the last vote commits.");
        return jobs;
    }

    public static async Task<Ok<CheckpointStatusView>> GetAsync(string job, [AsParameters] ApiServices services, CancellationToken cancellationToken) =>
        TypedResults.Ok(await services.Job(job).Checkpoints.GetAsync(cancellationToken).ConfigureAwait(false));

    public static async Task<Results<Ok<CheckpointOrderView>, ValidationProblem, ProblemHttpResult>> OrderAsync(
        string job, CheckpointOrderRequest? request, [AsParameters] ApiServices services, CancellationToken cancellationToken)
    {
        var validation = RequestValidation.Body(request);
        if (request is not null)
        {
            validation.Generation(request.Generation).Check(request.AtStep is null or >= 0, "atStep", "must be >= 0 when given")
                .Check(!string.IsNullOrWhiteSpace(request.Reason) && request.Reason.Length <= 200, "reason", "required: 1 to 200 characters");
        }

        if (validation.HasErrors)
        {
            return validation.ToProblem();
        }

        JobGrains grains = services.Job(job);
        MembershipSnapshot membership = await grains.Membership.GetAsync(cancellationToken).ConfigureAwait(false);
        if (membership.RendezvousOpen || request!.Generation != membership.Generation)
        {
            string detail = membership.RendezvousOpen
                ? $"generation {membership.Generation} is still gathering; no ranks to order"
                : $"generation {request!.Generation} is not the current generation {membership.Generation}";
            return ApiResults.Refusal<CheckpointOrderView, CheckpointOrderView>(GrainResult<CheckpointOrderView>.Stale(membership.Generation, detail));
        }

        long step = request.AtStep ?? membership.MaxStep + membership.LeadSteps;
        GrainResult<CheckpointOrderView> result = await grains.Checkpoints.OrderAsync(
            membership.Generation, membership.WorldSize, step, request.Reason, request.StopAfterCommit, cancellationToken).ConfigureAwait(false);
        return result.IsOk ? TypedResults.Ok(result.Value!) : ApiResults.Refusal<CheckpointOrderView, CheckpointOrderView>(result);
    }

    public static async Task<Results<Ok<CheckpointVoteReply>, ValidationProblem, ProblemHttpResult>> VoteAsync(
        string job, CheckpointVote? vote, [AsParameters] ApiServices services, CancellationToken cancellationToken)
    {
        var validation = RequestValidation.Body(vote);
        if (vote is not null)
        {
            validation.WorkerId(vote.WorkerId).Generation(vote.Generation).Rank(vote.Rank).Step(vote.Step)
                .Check(!string.IsNullOrWhiteSpace(vote.ConfigHash), "configHash", "required")
                .Check(vote.CodeVersion is not null, "codeVersion", "required (may be empty)")
                .Check(vote.Files is not null, "files", "required (may be empty)");
            for (int i = 0; vote.Files is not null && i < vote.Files.Count; i++)
            {
                CheckpointFile? file = vote.Files[i];
                validation
                    .Check(file is not null && BlobKey.IsValid(file.Path) && file.Path != Storage.Checkpoints.CheckpointLayout.ManifestName, $"files[{i}].path",
                        "must be a relative path of A-Z a-z 0-9 . _ - = and '/' (not 'manifest.json')")
                    .Check(file is null || file.Size >= 0, $"files[{i}].size", "must be >= 0")
                    .Check(file?.Sha256 is { Length: 64 } sha && sha.All(char.IsAsciiHexDigitLower), $"files[{i}].sha256", "must be 64 lower-case hex digits");
            }
        }

        if (validation.HasErrors)
        {
            return validation.ToProblem();
        }

        JobGrains grains = services.Job(job);
        GrainResult<int> member = await grains.Membership.CheckMemberAsync(vote!.WorkerId, vote.Generation, vote.Rank, cancellationToken).ConfigureAwait(false);
        if (!member.IsOk)
        {
            return ApiResults.Refusal<int, CheckpointVoteReply>(member);
        }

        GrainResult<CheckpointVoteReply> result = await grains.Checkpoints.VoteAsync(vote, cancellationToken).ConfigureAwait(false);
        return result.IsOk ? TypedResults.Ok(result.Value!) : ApiResults.Refusal<CheckpointVoteReply, CheckpointVoteReply>(result);
    }
}
