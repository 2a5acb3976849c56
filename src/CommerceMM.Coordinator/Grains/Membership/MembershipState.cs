namespace CommerceMM.Coordinator.Grains.Membership;

/// <summary>
/// The durable part of membership: the generation, whether its rendezvous is still gathering, who waits, who holds
/// which rank, and who survived the previous generation (those get "rejoin" rather than "stale" on an old heartbeat).
/// </summary>
/// <param name="Expected">Joins that complete the gathering rendezvous without waiting for its deadline.</param>
/// <param name="GatherDeadline">When a gathering rendezvous completes with whoever joined (at least MinWorkers); set on its first join.</param>
internal sealed record MembershipState(
    long Generation,
    bool Gathering,
    int Expected,
    DateTimeOffset? GatherDeadline,
    IReadOnlyList<WaitingWorker> Waiting,
    IReadOnlyList<RankedWorker> Members,
    long SurvivorsGeneration,
    IReadOnlyList<RankedWorker> Survivors,
    string? LastBumpReason);

/// <param name="PreviousRank">The rank held in the previous generation; survivors keep their relative order.</param>
/// <param name="Incarnation">The joining process (JoinRequest.Incarnation); null when its client sent none.</param>
internal sealed record WaitingWorker(string WorkerId, int? PreviousRank, DateTimeOffset JoinedAt, string? Incarnation = null);

/// <param name="Incarnation">The process that holds the rank; a join from another process of the same worker ends the generation.</param>
internal sealed record RankedWorker(string WorkerId, int Rank, string? Incarnation = null);
