using CommerceMM.Coordinator.Contracts;
using CommerceMM.Coordinator.Entities.Abstractions;
using CommerceMM.Storage.Blobs;

namespace CommerceMM.Coordinator.Entities.Ledger;

/// <summary>The ledger's state is its view: it has nothing to hide from <c>cmm status</c>.</summary>
internal sealed class ShardLedgerEntity : PersistentEntity<ShardLedgerView>, IShardLedgerEntity
{
    public ShardLedgerEntity(string job, IBlobStore store)
        : base(job, store, "ledger", new ShardLedgerView(0, 0, [], null))
    {
    }

    public Task<EntityResult<ShardLedgerView>> AssignAsync(long generation, IReadOnlyList<ShardAssignment> assignments, CancellationToken cancellationToken = default) =>
        TurnAsync(
            async () =>
            {
                if (generation < State.Generation)
                {
                    return EntityResult<ShardLedgerView>.Stale(State.Generation, $"the ledger already holds generation {State.Generation}; generation {generation} is stale");
                }

                State = State with { Generation = generation, WorldSize = assignments.Count, Assignments = assignments.OrderBy(a => a.Rank).ToList() };
                return await SaveAsync(cancellationToken).ConfigureAwait(false) ? State : EntityResult<ShardLedgerView>.Conflict(ConflictMessage);
            },
            cancellationToken);

    public Task<EntityResult<ShardLedgerView>> RecordCommitAsync(CommittedDataPosition position, CancellationToken cancellationToken = default) =>
        TurnAsync(
            async () =>
            {
                if (State.LastCommitted is { } last && last.Step >= position.Step)
                {
                    return State; // commits only move forward, as 'latest' does
                }

                State = State with { LastCommitted = position with { Positions = position.Positions.OrderBy(p => p.Rank).ToList() } };
                return await SaveAsync(cancellationToken).ConfigureAwait(false) ? State : EntityResult<ShardLedgerView>.Conflict(ConflictMessage);
            },
            cancellationToken);

    public Task<ShardLedgerView> GetAsync(CancellationToken cancellationToken = default) =>
        TurnAsync(() => Task.FromResult(State), cancellationToken);
}
