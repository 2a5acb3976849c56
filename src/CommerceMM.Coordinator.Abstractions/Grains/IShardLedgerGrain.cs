using CommerceMM.Coordinator.Contracts;

namespace CommerceMM.Coordinator.Grains;

/// <summary>
/// Which rank holds which data partition per generation, and the data positions committed with the last checkpoint
/// (keyed by job name). The loader partitions by (rank, world size) itself; this is the record of it. Calls nothing.
/// </summary>
[Alias("cmm.ledger")]
public interface IShardLedgerGrain : IGrainWithStringKey
{
    /// <summary>Records the assignment of a completed rendezvous; an older generation than the recorded one is Stale.</summary>
    Task<GrainResult<ShardLedgerView>> AssignAsync(long generation, IReadOnlyList<ShardAssignment> assignments, CancellationToken cancellationToken = default);

    /// <summary>Records the positions saved with a committed checkpoint; an older step than the recorded one is ignored.</summary>
    Task<GrainResult<ShardLedgerView>> RecordCommitAsync(CommittedDataPosition position, CancellationToken cancellationToken = default);

    /// <summary>Forgets the recorded positions when they belong to a checkpoint after <paramref name="step"/> (null: any), one that was set aside.</summary>
    Task<GrainResult<ShardLedgerView>> ForgetCommitsAfterAsync(long? step, CancellationToken cancellationToken = default);

    Task<ShardLedgerView> GetAsync(CancellationToken cancellationToken = default);
}
