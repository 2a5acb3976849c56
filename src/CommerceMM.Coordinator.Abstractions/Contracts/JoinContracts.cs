namespace CommerceMM.Coordinator.Contracts;

/// <summary>POST <c>/v1/jobs/{job}/join</c>: a worker asks for a rank in the current generation. Poll until <see cref="JoinStatus.Assigned"/>.</summary>
/// <param name="WorkerId">Stable identity of the worker (pod name, <c>local-0</c>); the same id re-joining gets the same rank.</param>
/// <param name="Incarnation">
/// Identifies the worker's process: a new value for every process start, the same for every join that process makes.
/// A rank holder joining again under a new incarnation was restarted (say, a relaunch after kill -9), so its old process
/// is gone and the generation moves on: nothing the old process was given or sent may count. Null (older clients):
/// never treated as a restart.
/// </param>
[Immutable]
public sealed record JoinRequest(string WorkerId, string? Incarnation = null);

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
[Immutable]
public sealed record JoinResponse(
    JoinStatus Status,
    long Generation,
    int Rank,
    int WorldSize,
    double RetryAfterSeconds,
    double HeartbeatIntervalSeconds,
    long? LastCommittedStep);
