using CommerceMM.Coordinator.Contracts;

namespace CommerceMM.Coordinator.Grains;

/// <summary>
/// Membership and rendezvous of one job (keyed by job name): who has which rank in which generation, and whether each
/// rank is alive. Calls the job (generation bumps) and the shard ledger (assignments), and opens each generation's
/// rendezvous keys.
/// </summary>
[Alias("cmm.membership")]
public interface IMembershipGrain : IGrainWithStringKey
{
    /// <summary>
    /// Joins the current rendezvous; Waiting until enough workers joined or the rendezvous timed out. A rank holder of the
    /// current generation joining under another <paramref name="incarnation"/> (a new process) starts a new generation.
    /// </summary>
    Task<GrainResult<JoinOutcome>> JoinAsync(string workerId, string? incarnation = null, CancellationToken cancellationToken = default);

    /// <summary>Records progress; Rejoin for survivors of an older generation; Stale/NotMember otherwise.</summary>
    Task<GrainResult<HeartbeatOutcome>> HeartbeatAsync(HeartbeatRequest heartbeat, CancellationToken cancellationToken = default);

    /// <summary>A rank reports a failed collective, or that it cannot go on: the generation is bumped and every member asked to rejoin.</summary>
    Task<GrainResult<HeartbeatOutcome>> ReportFailureAsync(FailureReport report, CancellationToken cancellationToken = default);

    /// <summary>
    /// A checkpoint that ends <paramref name="generation"/> committed: the members rejoin a new generation without
    /// <paramref name="leavers"/> and with the newcomers waiting to join (neither is a restart). Nothing happens when that
    /// generation has already moved on.
    /// </summary>
    Task RegroupAsync(long generation, IReadOnlyList<string> leavers, string reason, CancellationToken cancellationToken = default);

    /// <summary>Ok with the world size when <paramref name="workerId"/> holds <paramref name="rank"/> in the current generation <paramref name="generation"/>.</summary>
    Task<GrainResult<int>> CheckMemberAsync(string workerId, long generation, int rank, CancellationToken cancellationToken = default);

    /// <summary>Evicts ranks whose heartbeat is overdue and completes timed-out rendezvous. Called on every request and by a timer.</summary>
    Task SweepAsync(CancellationToken cancellationToken = default);

    /// <summary>Members, waiting workers and liveness, for status.</summary>
    Task<MembershipSnapshot> GetAsync(CancellationToken cancellationToken = default);
}

/// <param name="GrowsAtCheckpoint">
/// Waiting as a newcomer to a running generation below the target size: the job grows once a checkpoint commits, which the
/// caller orders (<see cref="ICheckpointGrain.OrderAsync"/> with regroup), so that no step is redone.
/// </param>
[Immutable]
public sealed record JoinOutcome(JoinStatus Status, long Generation, int Rank, int WorldSize, TimeSpan RetryAfter, bool GrowsAtCheckpoint = false);

public enum HeartbeatVerdict
{
    Continue,
    Rejoin,
}

/// <param name="MaxStep">The furthest step any rank of the generation reported (for placing checkpoint orders ahead of it).</param>
/// <param name="LeadSteps">Steps a checkpoint order should be placed ahead of <see cref="MaxStep"/> so every rank hears of it in time.</param>
[Immutable]
public sealed record HeartbeatOutcome(HeartbeatVerdict Verdict, long Generation, int WorldSize, long MaxStep, int LeadSteps, TimeSpan Timeout, string? Reason);

/// <param name="Silo">The silo hosting this membership activation (where the job's control plane runs now).</param>
[Immutable]
public sealed record MembershipSnapshot(
    long Generation,
    bool RendezvousOpen,
    int WorldSize,
    long MaxStep,
    int LeadSteps,
    TimeSpan HeartbeatTimeout,
    IReadOnlyList<MemberView> Members,
    string? LastBumpReason,
    string? Silo = null);
