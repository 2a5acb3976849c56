using System.Net;

namespace CommerceMM.Coordinator.Client;

/// <summary>
/// The coordinator refused a request (4xx), or kept failing after every retry. The message carries the problem
/// detail the coordinator sent, never the token.
/// </summary>
public class CoordinatorException : Exception
{
    public CoordinatorException(string message, HttpStatusCode? status = null, string? problemType = null, long? currentGeneration = null, Exception? innerException = null)
        : base(message, innerException)
    {
        Status = status;
        ProblemType = problemType;
        CurrentGeneration = currentGeneration;
    }

    /// <summary>The HTTP status; null when no response came back.</summary>
    public HttpStatusCode? Status { get; }

    /// <summary>The ProblemDetails <c>type</c> (see <see cref="Contracts.ProblemTypes"/>).</summary>
    public string? ProblemType { get; }

    /// <summary>The coordinator's current generation, when the refusal was about generations.</summary>
    public long? CurrentGeneration { get; }

    /// <summary>True for 409 stale-generation / not-member: the worker should rejoin.</summary>
    public bool MustRejoin => ProblemType is Contracts.ProblemTypes.StaleGeneration or Contracts.ProblemTypes.NotMember;

    /// <summary>True for 401: the token is wrong; retrying will not help.</summary>
    public bool IsUnauthorized => Status == HttpStatusCode.Unauthorized;
}
