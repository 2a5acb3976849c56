namespace CommerceMM.Coordinator.Contracts;

/// <summary>The <c>type</c> of each ProblemDetails the API returns; clients switch on these, never on the text.</summary>
public static class ProblemTypes
{
    /// <summary>409: the request carries an older (or unknown future) generation. Extension <c>currentGeneration</c>.</summary>
    public const string StaleGeneration = "urn:cmm:problem:stale-generation";

    /// <summary>409: the worker is not a member of the generation it names (evicted, or never joined).</summary>
    public const string NotMember = "urn:cmm:problem:not-member";

    /// <summary>409: the request conflicts with the entity's state (job full, another checkpoint in progress, lost ETag race).</summary>
    public const string Conflict = "urn:cmm:problem:conflict";

    /// <summary>409: the job has ended (completed, failed or stopped), so there is nothing to join.</summary>
    public const string JobEnded = "urn:cmm:problem:job-ended";

    /// <summary>404: no such job on this coordinator.</summary>
    public const string UnknownJob = "urn:cmm:problem:unknown-job";

    /// <summary>401: missing or wrong bearer token.</summary>
    public const string Unauthorized = "urn:cmm:problem:unauthorized";

    /// <summary>Name of the ProblemDetails extension holding the coordinator's current generation.</summary>
    public const string CurrentGenerationExtension = "currentGeneration";
}
