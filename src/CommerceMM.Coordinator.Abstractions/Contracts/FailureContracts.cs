namespace CommerceMM.Coordinator.Contracts;

/// <summary>
/// POST <c>/v1/jobs/{job}/failures</c>: a rank saw a collective fail (peer gone, timeout), or it cannot go on (out of
/// memory, no process group on its machine). The coordinator bumps the generation and answers Rejoin. <see cref="Fatal"/>
/// marks the job Failed instead (e.g. an incompatible checkpoint).
/// </summary>
/// <param name="Reason">What it saw, worded to follow "rank 0 (worker 'w0') reported", e.g. "a failed collective: ...".</param>
[Immutable]
public sealed record FailureReport(string WorkerId, long Generation, int Rank, string Reason, bool Fatal = false);

/// <summary>POST <c>/v1/jobs/{job}/complete</c>: a rank of the current generation finished training at <see cref="Step"/>.</summary>
[Immutable]
public sealed record CompletionReport(string WorkerId, long Generation, int Rank, long Step);
