using CommerceMM.Coordinator.Contracts;
using CommerceMM.Coordinator.Persistence;

namespace CommerceMM.Coordinator.Grains.Ledger;

/// <summary>The ledger's state is its view: it has nothing to hide from <c>cmm status</c>.</summary>
internal sealed class ShardLedgerGrain([PersistentState(GrainStateKeys.Ledger, GrainStateKeys.Provider)] IPersistentState<ShardLedgerView> state)
    : PersistentGrain<ShardLedgerView>(state, "ledger"), IShardLedgerGrain
{
    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (!StateExists)
        {
            State = new ShardLedgerView(0, 0, [], null);
        }

        return Task.CompletedTask;
    }

    public async Task<GrainResult<ShardLedgerView>> AssignAsync(long generation, IReadOnlyList<ShardAssignment> assignments, CancellationToken cancellationToken = default)
    {
        if (generation < State.Generation)
        {
            return GrainResult<ShardLedgerView>.Stale(State.Generation, $"the ledger already holds generation {State.Generation}; generation {generation} is stale");
        }

        State = State with { Generation = generation, WorldSize = assignments.Count, Assignments = assignments.OrderBy(a => a.Rank).ToList() };
        return await SaveAsync(cancellationToken) ? State : GrainResult<ShardLedgerView>.Conflict(ConflictMessage);
    }

    public async Task<GrainResult<ShardLedgerView>> RecordCommitAsync(CommittedDataPosition position, CancellationToken cancellationToken = default)
    {
        if (State.LastCommitted is { } last && last.Step >= position.Step)
        {
            return State; // commits only move forward, as 'latest' does
        }

        State = State with { LastCommitted = position with { Positions = position.Positions.OrderBy(p => p.Rank).ToList() } };
        return await SaveAsync(cancellationToken) ? State : GrainResult<ShardLedgerView>.Conflict(ConflictMessage);
    }

    public async Task<GrainResult<ShardLedgerView>> ForgetCommitsAfterAsync(long? step, CancellationToken cancellationToken = default)
    {
        if (State.LastCommitted is not { } last || last.Step <= (step ?? -1))
        {
            return State;
        }

        // The restored checkpoint's positions are in its own files; until the next commit the ledger records none.
        State = State with { LastCommitted = null };
        return await SaveAsync(cancellationToken) ? State : GrainResult<ShardLedgerView>.Conflict(ConflictMessage);
    }

    public Task<ShardLedgerView> GetAsync(CancellationToken cancellationToken = default) =>
        Task.FromResult(State);
}
