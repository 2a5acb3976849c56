using System.Text.Json;

namespace CommerceMM.Coordinator.Contracts;

/// <summary>
/// GET <c>/v1/jobs/{job}/shards</c>: which rank holds which data partition in the current generation. The loader
/// partitions deterministically by (rank, world size), so partition == rank; the ledger records the assignment and the
/// data positions saved with the last committed checkpoint.
/// </summary>
[Immutable]
public sealed record ShardLedgerView(long Generation, int WorldSize, IReadOnlyList<ShardAssignment> Assignments, CommittedDataPosition? LastCommitted);

[Immutable]
public sealed record ShardAssignment(int Partition, int Rank, string WorkerId);

/// <summary>Per-rank data positions saved with checkpoint <see cref="Step"/> (written by <see cref="WorldSize"/> ranks).</summary>
[Immutable]
public sealed record CommittedDataPosition(long Step, long Generation, int WorldSize, IReadOnlyList<RankDataPosition> Positions);

[Immutable]
public sealed record RankDataPosition(int Rank, JsonElement? Position);
