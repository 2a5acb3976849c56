using System.Text.Json;
using CommerceMM.Coordinator.Contracts;

namespace CommerceMM.Coordinator.Grains.Checkpoints;

/// <summary>Durable state of the checkpoint coordinator: the open order with its votes, and the last commit.</summary>
/// <param name="LastOrderedStep">The newest step ever ordered; periodic orders continue after it.</param>
internal sealed record CheckpointState(PendingCheckpoint? Pending, CommittedCheckpointView? LastCommitted, long LastOrderedStep, string? LastFailure);

/// <param name="ReachedAt">When the first rank reported reaching <see cref="Step"/> (heartbeat or vote); the checkpoint timeout runs from here.</param>
internal sealed record PendingCheckpoint(
    long Generation, long Step, int WorldSize, string Reason, bool StopAfterCommit, DateTimeOffset OrderedAt, IReadOnlyList<RecordedVote> Votes, DateTimeOffset? ReachedAt = null)
{
    public CheckpointOrderView View() =>
        new(Generation, Step, WorldSize, Reason, StopAfterCommit, Votes.Select(v => v.Rank).Order().ToList());
}

internal sealed record RecordedVote(int Rank, string WorkerId, IReadOnlyList<CheckpointFile> Files, string ConfigHash, string CodeVersion, JsonElement? DataPosition);
