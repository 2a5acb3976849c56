using CommerceMM.Coordinator.Contracts;

namespace CommerceMM.Coordinator.Grains;

/// <summary>
/// What a worker calls, keyed by job name: the one door into a job's grains for processes outside the silo. Every call
/// carries the job's token and is validated before any grain changes; refusals come back as <see cref="GrainResult{T}"/>
/// values (Unauthorized, UnknownJob, Invalid naming the field, Stale, NotMember, Conflict), never as a partial change.
/// </summary>
[Alias("cmm.workers")]
public interface IWorkerGatewayGrain : IGrainWithStringKey
{
    /// <summary>Joins the current rendezvous; Waiting until enough workers joined, then Assigned with a rank.</summary>
    Task<GrainResult<JoinResponse>> JoinAsync(string token, JoinRequest request, CancellationToken cancellationToken = default);

    /// <summary>Reports progress; the reply carries an order (none, checkpoint, rejoin, stop).</summary>
    Task<GrainResult<OrderReply>> HeartbeatAsync(string token, HeartbeatRequest request, CancellationToken cancellationToken = default);

    /// <summary>A failed collective (bumps the generation) or a fatal error (fails the job).</summary>
    Task<GrainResult<OrderReply>> ReportFailureAsync(string token, FailureReport report, CancellationToken cancellationToken = default);

    /// <summary>Training finished: the job completes.</summary>
    Task<GrainResult<OrderReply>> CompleteAsync(string token, CompletionReport report, CancellationToken cancellationToken = default);

    /// <summary>Orders every rank of the current generation to checkpoint (SIGTERM, a final save).</summary>
    Task<GrainResult<CheckpointOrderView>> OrderCheckpointAsync(string token, CheckpointOrderRequest request, CancellationToken cancellationToken = default);

    /// <summary>A rank uploaded its files; the last vote commits.</summary>
    Task<GrainResult<CheckpointVoteReply>> VoteCheckpointAsync(string token, CheckpointVote vote, CancellationToken cancellationToken = default);

    /// <summary>Rank 0 restored an older checkpoint than the last committed one, whose newer ones failed verification.</summary>
    Task<GrainResult<CheckpointStatusView>> ReportRestoreAsync(string token, RestoreReport report, CancellationToken cancellationToken = default);

    /// <summary>The job spec the workers run.</summary>
    Task<GrainResult<JobSpec>> GetSpecAsync(string token, CancellationToken cancellationToken = default);

    /// <summary>Sets a rendezvous key of <paramref name="generation"/> (the current one only).</summary>
    Task<GrainResult<bool>> SetRendezvousAsync(string token, long generation, string key, byte[] value, CancellationToken cancellationToken = default);

    /// <summary>A rendezvous key of <paramref name="generation"/>, waiting up to <paramref name="wait"/> (at most <see cref="RendezvousLimits.MaxWaitSeconds"/>) for it.</summary>
    Task<GrainResult<RendezvousValue>> GetRendezvousAsync(string token, long generation, string key, TimeSpan wait, CancellationToken cancellationToken = default);
}
