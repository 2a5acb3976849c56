namespace CommerceMM.Coordinator.Contracts;

/// <summary>POST <c>/v1/jobs/{job}/join</c>: a worker asks for a rank in the current generation. Poll until <see cref="JoinStatus.Assigned"/>.</summary>
/// <param name="WorkerId">Stable identity of the worker process (pod name, host:pid); the same id re-joining gets the same rank.</param>
public sealed record JoinRequest(string WorkerId);

public enum JoinStatus
{
    /// <summary>Not enough workers yet: call join again after <see cref="JoinResponse.RetryAfterSeconds"/>.</summary>
    Waiting,

    /// <summary>Rendezvous done: rank and world size are set; the ranks meet through the rendezvous keys of <see cref="JoinResponse.Generation"/>.</summary>
    Assigned,
}

/// <summary>The answer to a join. When assigned, every rank of <see cref="Generation"/> got the same world size.</summary>
/// <param name="Generation">Also names the generation's own rendezvous keys (<c>/v1/jobs/{job}/rendezvous/{generation}/keys</c>), so an old generation's keys never satisfy a new rendezvous.</param>
/// <param name="HeartbeatIntervalSeconds">How often to heartbeat.</param>
/// <param name="LastCommittedStep">Newest committed checkpoint step to restore from; null when none (initialise from the seed).</param>
public sealed record JoinResponse(
    JoinStatus Status,
    long Generation,
    int Rank,
    int WorldSize,
    double RetryAfterSeconds,
    double HeartbeatIntervalSeconds,
    long? LastCommittedStep);
