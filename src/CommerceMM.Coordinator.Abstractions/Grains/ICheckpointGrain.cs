using CommerceMM.Coordinator.Contracts;

namespace CommerceMM.Coordinator.Grains;

/// <summary>
/// The checkpoint hook points of one job (keyed by job name): orders a checkpoint at a step, collects each rank's
/// "saved" vote, and when all ranks voted runs the storage library's commit (manifest, verify, latest). The commit
/// protocol itself stays in CommerceMM.Storage. Calls the ledger (positions), and the membership or the job when workers leave after a commit.
/// </summary>
[Alias("cmm.checkpoints")]
public interface ICheckpointGrain : IGrainWithStringKey
{
    /// <summary>
    /// A rank's progress: places the next periodic order when due, and returns the order this rank has yet to vote on
    /// (null when none) with the last committed step, all a heartbeat's reply needs from here in one call. Orders of an
    /// older generation are dropped here. While <paramref name="stopRequested"/>, the next order is one the job stops at.
    /// </summary>
    Task<GrainResult<CheckpointProgress>> OnProgressAsync(long generation, int worldSize, int rank, long step, int leadSteps, bool stopRequested = false, CancellationToken cancellationToken = default);

    /// <summary>
    /// Orders a checkpoint at <paramref name="step"/> for every rank of <paramref name="generation"/>; <paramref name="leaving"/>
    /// (a member's id) leaves once it commits. Orders at one step merge their leavers. With <paramref name="regroup"/> (a
    /// newcomer waits) the generation ends at the checkpoint: an order not yet reached becomes that checkpoint where it is.
    /// </summary>
    Task<GrainResult<CheckpointOrderView>> OrderAsync(long generation, int worldSize, long step, string reason, string? leaving, bool regroup, CancellationToken cancellationToken = default);

    /// <summary>Records one rank's vote; the last vote commits. The caller has checked membership.</summary>
    Task<GrainResult<CheckpointVoteReply>> VoteAsync(CheckpointVote vote, CancellationToken cancellationToken = default);

    /// <summary>
    /// The ranks of a generation restored <paramref name="restoredStep"/> (null: nothing), below the last committed step:
    /// the checkpoints above it are verified here and, when they fail, set aside, and the last committed step becomes the
    /// restored one. Conflict, changing nothing, when one verifies here. The caller has checked membership.
    /// </summary>
    Task<GrainResult<CheckpointStatusView>> OnRestoredAsync(long? restoredStep, CancellationToken cancellationToken = default);

    Task<CheckpointStatusView> GetAsync(CancellationToken cancellationToken = default);
}

/// <param name="Order">The order the rank has yet to vote on; null when none.</param>
/// <param name="LastCommittedStep">The newest committed checkpoint's step; null before the first commit.</param>
/// <param name="OpenStep">The step of the generation's open order, whether or not the rank voted; null when none is open.</param>
[Immutable]
public sealed record CheckpointProgress(CheckpointOrderView? Order, long? LastCommittedStep, long? OpenStep);
