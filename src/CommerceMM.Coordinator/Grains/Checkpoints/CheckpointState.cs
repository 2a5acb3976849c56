using System.Text.Json;
using CommerceMM.Coordinator.Contracts;

namespace CommerceMM.Coordinator.Grains.Checkpoints;

/// <summary>Durable state of the checkpoint coordinator: the open order with its votes, and the last commit.</summary>
/// <param name="LastOrderedStep">The newest step ever ordered; periodic orders continue after it.</param>
internal sealed record CheckpointState(PendingCheckpoint? Pending, CommittedCheckpointView? LastCommitted, long LastOrderedStep, string? LastFailure);

/// <param name="Leaving">Worker ids that leave the job once this commits; null in a state written before leaving existed.</param>
/// <param name="ReachedAt">When the first rank reported reaching <see cref="Step"/> (heartbeat or vote); the checkpoint timeout runs from here.</param>
/// <param name="Regroup">Newcomers wait for this checkpoint: the generation ends there even if nobody leaves.</param>
/// <param name="Stops">The job was asked to stop, and stops once this commits.</param>
internal sealed record PendingCheckpoint(
    long Generation, long Step, int WorldSize, string Reason, IReadOnlyList<string>? Leaving, DateTimeOffset OrderedAt, IReadOnlyList<RecordedVote> Votes,
    DateTimeOffset? ReachedAt = null, bool Regroup = false, bool Stops = false)
{
    public IReadOnlyList<string> Leavers => Leaving ?? [];

    public bool EndsGeneration => Regroup || Stops || Leavers.Count > 0;

    public CheckpointOrderView View() =>
        new(Generation, Step, WorldSize, Reason, Leavers, Votes.Select(v => v.Rank).Order().ToList(), EndsGeneration);

    /// <summary>This order with <paramref name="worker"/> among its leavers (none added for null).</summary>
    public PendingCheckpoint WithLeaver(string? worker) =>
        worker is null || Leavers.Contains(worker, StringComparer.Ordinal) ? this : this with { Leaving = [.. Leavers, worker] };
}

internal sealed record RecordedVote(int Rank, string WorkerId, IReadOnlyList<CheckpointFile> Files, string ConfigHash, string CodeVersion, JsonElement? DataPosition);
