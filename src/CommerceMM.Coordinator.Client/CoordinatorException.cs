using System.Net;
using CommerceMM.Coordinator.Contracts;
using CommerceMM.Coordinator.Grains;

namespace CommerceMM.Coordinator.Client;

/// <summary>
/// The control plane refused a request, or kept failing after every retry. The message carries the refusal's detail,
/// never the token. A refusal is classified in HTTP terms (<see cref="Status"/>, <see cref="ProblemType"/>) whichever
/// transport carried it, so the HTTP API and the grains read the same to callers.
/// </summary>
public class CoordinatorException : Exception
{
    public CoordinatorException(string message, HttpStatusCode? status = null, string? problemType = null, long? currentGeneration = null, Exception? innerException = null,
                                JobState? endedState = null)
        : base(message, innerException)
    {
        Status = status;
        ProblemType = problemType;
        CurrentGeneration = currentGeneration;
        EndedState = endedState;
    }

    /// <summary>The refusal's status; null when no answer came back.</summary>
    public HttpStatusCode? Status { get; }

    /// <summary>The refusal's type (see <see cref="ProblemTypes"/>).</summary>
    public string? ProblemType { get; }

    /// <summary>The coordinator's current generation, when the refusal was about generations.</summary>
    public long? CurrentGeneration { get; }

    /// <summary>How the job ended, when the refusal was that it has (<see cref="ProblemTypes.JobEnded"/>).</summary>
    public JobState? EndedState { get; }

    /// <summary>True for stale-generation / not-member: the worker should rejoin.</summary>
    public bool MustRejoin => ProblemType is ProblemTypes.StaleGeneration or ProblemTypes.NotMember;

    /// <summary>True when the token is wrong; retrying will not help.</summary>
    public bool IsUnauthorized => Status == HttpStatusCode.Unauthorized;

    /// <summary>The exception for a grain's refusal of <paramref name="operation"/>.</summary>
    internal static CoordinatorException Refused<T>(string operation, GrainResult<T> result)
    {
        (HttpStatusCode status, string? type, string title) = result.Status switch
        {
            GrainStatus.Invalid => (HttpStatusCode.BadRequest, (string?)null, "the request is invalid"),
            GrainStatus.Stale => (HttpStatusCode.Conflict, ProblemTypes.StaleGeneration, "stale generation"),
            GrainStatus.NotMember => (HttpStatusCode.Conflict, ProblemTypes.NotMember, "not a member of this generation"),
            GrainStatus.Conflict => (HttpStatusCode.Conflict, ProblemTypes.Conflict, "conflict"),
            GrainStatus.Unauthorized => (HttpStatusCode.Unauthorized, ProblemTypes.Unauthorized, "unauthorized"),
            GrainStatus.UnknownJob => (HttpStatusCode.NotFound, ProblemTypes.UnknownJob, "unknown job"),
            GrainStatus.JobEnded => (HttpStatusCode.Conflict, ProblemTypes.JobEnded, "job ended"),
            _ => throw new ArgumentException($"{result.Status} is not a refusal", nameof(result)),
        };
        return new CoordinatorException($"coordinator refused {operation} ({title}): {result.Message}", status, type, result.CurrentGeneration, endedState: result.EndedState);
    }
}
