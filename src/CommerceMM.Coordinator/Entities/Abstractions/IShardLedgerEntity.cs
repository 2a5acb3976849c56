using CommerceMM.Coordinator.Contracts;

namespace CommerceMM.Coordinator.Entities.Abstractions;

/// <summary>
/// Which rank holds which data partition per generation, and the data positions committed with the last checkpoint
/// (keyed by job name). The loader partitions by (rank, world size) itself; this is the record of it. Calls nothing.
/// </summary>
public interface IShardLedgerEntity
{
    string Key { get; }

    /// <summary>Records the assignment of a completed rendezvous; an older generation than the recorded one is Stale.</summary>
    Task<EntityResult<ShardLedgerView>> AssignAsync(long generation, IReadOnlyList<ShardAssignment> assignments, CancellationToken cancellationToken = default);

    /// <summary>Records the positions saved with a committed checkpoint; an older step than the recorded one is ignored.</summary>
    Task<EntityResult<ShardLedgerView>> RecordCommitAsync(CommittedDataPosition position, CancellationToken cancellationToken = default);

    Task<ShardLedgerView> GetAsync(CancellationToken cancellationToken = default);
}
