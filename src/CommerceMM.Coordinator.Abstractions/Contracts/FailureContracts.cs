namespace CommerceMM.Coordinator.Contracts;

/// <summary>
/// POST <c>/v1/jobs/{job}/failures</c>: a rank saw a collective fail (peer gone, timeout). The coordinator bumps the
/// generation and answers Rejoin. <see cref="Fatal"/> marks the job Failed instead (e.g. an incompatible checkpoint).
/// </summary>
[Immutable]
public sealed record FailureReport(string WorkerId, long Generation, int Rank, string Reason, bool Fatal = false);

/// <summary>POST <c>/v1/jobs/{job}/complete</c>: a rank of the current generation finished training at <see cref="Step"/>.</summary>
[Immutable]
public sealed record CompletionReport(string WorkerId, long Generation, int Rank, long Step);
