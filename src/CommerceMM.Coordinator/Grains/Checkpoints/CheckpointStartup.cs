using CommerceMM.Coordinator.Contracts;
using CommerceMM.Storage.Checkpoints;

namespace CommerceMM.Coordinator.Grains.Checkpoints;

/// <summary>
/// How the checkpoint entity's stored state is brought in line with storage on activation, after
/// <see cref="CheckpointRecovery"/> has resolved any torn commit. Pure, so each crash point is a plain test.
/// </summary>
/// <remarks>
/// Storage's <c>latest</c> is the one truth: workers restore what it names, so the coordinator's last committed
/// step must be exactly that. Counting anything else breaks the next order: a step the coordinator counts but the
/// workers never restored makes it refuse their SIGTERM checkpoint as "not after the last committed checkpoint".
/// </remarks>
internal static class CheckpointStartup
{
    /// <summary>The reconciled state, and the data positions to record in the ledger when an order turned out committed.</summary>
    public static (CheckpointState State, CommittedDataPosition? Committed) Reconcile(
        CheckpointState state, LatestPointer? latest, IReadOnlyList<RecoveredCommit> recovered, DateTimeOffset now)
    {
        PendingCheckpoint? pending = state.Pending;
        CommittedDataPosition? committed = null;
        if (pending is not null && latest is not null && pending.Step <= latest.Step)
        {
            // Killed after latest moved but before the state was saved (or an older order that latest passed): done.
            if (pending.Step == latest.Step)
            {
                committed = Positions(pending);
            }

            pending = null;
        }

        CommittedCheckpointView? last = latest switch
        {
            null => null,
            _ when state.LastCommitted is { } known && known.Step == latest.Step => known,
            _ => new CommittedCheckpointView(latest.Step, latest.Generation, committed?.WorldSize ?? 0, now),
        };

        string? failure = state.LastFailure;
        if (recovered.FirstOrDefault(r => !r.Finished) is { } aborted)
        {
            failure = $"checkpoint at step {aborted.Step} was not committed: {aborted.Reason}; aborted when the coordinator started";
        }
        else if (committed is not null)
        {
            failure = null;
        }

        // With no order open, periodic orders continue after the last commit: an aborted step is ordered again.
        long lastOrdered = pending is null ? last?.Step ?? 0 : Math.Max(state.LastOrderedStep, pending.Step);
        return (new CheckpointState(pending, last, lastOrdered, failure), committed);
    }

    /// <summary>
    /// The ledger record of an order that committed while the coordinator died: every vote but the last was saved with
    /// the order, so the rank whose vote completed it has no position here (null); restore reads positions from the
    /// checkpoint itself, never from the ledger.
    /// </summary>
    private static CommittedDataPosition Positions(PendingCheckpoint p) =>
        new(p.Step, p.Generation, p.WorldSize,
            Enumerable.Range(0, p.WorldSize).Select(rank => new RankDataPosition(rank, p.Votes.FirstOrDefault(v => v.Rank == rank)?.DataPosition)).ToList());
}
