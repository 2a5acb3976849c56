using System.Text.Json;

namespace CommerceMM.Coordinator.Contracts;

/// <summary>
/// POST <c>/v1/jobs/{job}/checkpoints/orders</c>: ask for a checkpoint of the current generation (SIGTERM, operator).
/// The order reaches every rank through heartbeat replies.
/// </summary>
/// <param name="AtStep">Step to save after; null means a few steps ahead of the furthest rank.</param>
/// <param name="Leaving">
/// A worker of the generation (its id) that leaves once this checkpoint commits (preemption, SIGTERM): the others go on in
/// a new generation without it, and it may join again later. When every worker leaves, the job stops, resumable.
/// </param>
[Immutable]
public sealed record CheckpointOrderRequest(long Generation, long? AtStep = null, string Reason = "requested", string? Leaving = null);

/// <summary>An outstanding checkpoint order and the ranks that have voted for it so far.</summary>
/// <param name="Leaving">The workers that leave once it commits (none for a periodic or final checkpoint).</param>
/// <param name="EndsGeneration">Once it commits the ranks regroup in a new generation: workers leave, or newcomers join.</param>
[Immutable]
public sealed record CheckpointOrderView(long Generation, long Step, int WorldSize, string Reason, IReadOnlyList<string> Leaving, IReadOnlyList<int> VotedRanks, bool EndsGeneration);

/// <summary>One file a rank uploaded for a checkpoint (path inside the step folder, size, lower-case hex SHA-256).</summary>
[Immutable]
public sealed record CheckpointFile(string Path, long Size, string Sha256);

/// <summary>
/// POST <c>/v1/jobs/{job}/checkpoints/votes</c>: a rank finished uploading its part of the checkpoint at
/// <see cref="Step"/>. When every rank has voted, the coordinator runs the storage library's commit.
/// </summary>
/// <param name="ConfigHash">Hash of the model-shaping config; all ranks must agree.</param>
/// <param name="DataPosition">This rank's loader position record (opaque to the coordinator), kept in the shard ledger.</param>
/// <param name="Failure">
/// Why this rank could not save its part (a full disk, a refused upload), with no files; null for a vote that saved.
/// The order then fails at once, so the next one can go out instead of every order waiting out the checkpoint timeout.
/// </param>
[Immutable]
public sealed record CheckpointVote(
    string WorkerId,
    long Generation,
    int Rank,
    long Step,
    IReadOnlyList<CheckpointFile> Files,
    string ConfigHash,
    string CodeVersion,
    JsonElement? DataPosition = null,
    string? Failure = null)
{
    /// <summary>The longest <see cref="Failure"/> the coordinator takes (it is logged and kept in the job's state).</summary>
    public const int MaxFailureLength = 2000;
}

public enum CheckpointVoteStatus
{
    /// <summary>Vote recorded; other ranks have not voted yet.</summary>
    Pending,

    /// <summary>This vote was the last one and the checkpoint is committed (manifest written, files verified, latest moved).</summary>
    Committed,

    /// <summary>The commit was refused (verification failed, ranks disagree); the message says why. Training goes on.</summary>
    Failed,
}

[Immutable]
public sealed record CheckpointVoteReply(CheckpointVoteStatus Status, long Step, string Message);

/// <summary>
/// Rank 0 of a generation restored <see cref="RestoredStep"/> (null: no checkpoint, it started from the seed), older than
/// the last committed step its join reported, because the newer checkpoints failed verification as it read them. The
/// coordinator verifies those itself and sets them aside, so that it takes checkpoints after the restored step again.
/// </summary>
[Immutable]
public sealed record RestoreReport(string WorkerId, long Generation, int Rank, long? RestoredStep);

/// <summary>The last committed checkpoint as the coordinator recorded it.</summary>
[Immutable]
public sealed record CommittedCheckpointView(long Step, long Generation, int WorldSize, DateTimeOffset CommittedAt);

/// <summary>GET <c>/v1/jobs/{job}/checkpoints</c>.</summary>
[Immutable]
public sealed record CheckpointStatusView(CheckpointOrderView? Pending, CommittedCheckpointView? LastCommitted, string? LastFailure);
