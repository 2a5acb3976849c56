using CommerceMM.Coordinator.Contracts;

namespace CommerceMM.Coordinator.Grains;

public enum GrainStatus
{
    Ok,

    /// <summary>A field of the request is invalid; <see cref="GrainResult{T}.Field"/> names it.</summary>
    Invalid,

    /// <summary>The request carries another generation than the current one.</summary>
    Stale,

    /// <summary>The worker is not a member of the generation it names.</summary>
    NotMember,

    /// <summary>The request conflicts with the grain's state, or a persisted write lost an ETag race.</summary>
    Conflict,

    /// <summary>The caller did not present the job's token.</summary>
    Unauthorized,

    /// <summary>No job of that name runs on this control plane.</summary>
    UnknownJob,

    /// <summary>The job has ended (<see cref="GrainResult{T}.EndedState"/> says how): nothing is left to join.</summary>
    JobEnded,
}

/// <summary>
/// Outcome of a grain call. Refusals are values, not exceptions: a stale generation or a lost ETag race is an
/// expected event of the protocol, and the API maps each status to one HTTP answer.
/// </summary>
[Immutable]
public sealed record GrainResult<T>
{
    [System.Text.Json.Serialization.JsonConstructor]
    private GrainResult(GrainStatus status, T? value, string? message, string? field, long? currentGeneration, JobState? endedState = null)
    {
        Status = status;
        Value = value;
        Message = message;
        Field = field;
        CurrentGeneration = currentGeneration;
        EndedState = endedState;
    }

    public GrainStatus Status { get; }

    /// <summary>Set when <see cref="Status"/> is <see cref="GrainStatus.Ok"/>.</summary>
    public T? Value { get; }

    public string? Message { get; }

    /// <summary>For <see cref="GrainStatus.Invalid"/>: the request field at fault (camelCase, as on the wire).</summary>
    public string? Field { get; }

    /// <summary>For <see cref="GrainStatus.Stale"/> and <see cref="GrainStatus.NotMember"/>: the generation now current.</summary>
    public long? CurrentGeneration { get; }

    /// <summary>For <see cref="GrainStatus.JobEnded"/>: how the job ended.</summary>
    public JobState? EndedState { get; }

    [System.Text.Json.Serialization.JsonIgnore]
    public bool IsOk => Status == GrainStatus.Ok;

    public static GrainResult<T> Ok(T value) => new(GrainStatus.Ok, value, null, null, null);

    public static GrainResult<T> Invalid(string field, string message) => new(GrainStatus.Invalid, default, message, field, null);

    public static GrainResult<T> Stale(long currentGeneration, string message) => new(GrainStatus.Stale, default, message, null, currentGeneration);

    public static GrainResult<T> NotMember(long currentGeneration, string message) => new(GrainStatus.NotMember, default, message, null, currentGeneration);

    public static GrainResult<T> Conflict(string message) => new(GrainStatus.Conflict, default, message, null, null);

    public static GrainResult<T> Unauthorized(string message) => new(GrainStatus.Unauthorized, default, message, null, null);

    public static GrainResult<T> UnknownJob(string message) => new(GrainStatus.UnknownJob, default, message, null, null);

    public static GrainResult<T> JobEnded(JobState state, string message) => new(GrainStatus.JobEnded, default, message, null, null, state);

    /// <summary>The same refusal for another value type (only for non-Ok results).</summary>
    public GrainResult<TOther> Cast<TOther>() => IsOk
        ? throw new InvalidOperationException("An Ok result carries a value and cannot be re-typed.")
        : new GrainResult<TOther>(Status, default, Message, Field, CurrentGeneration, EndedState);

    public static implicit operator GrainResult<T>(T value) => Ok(value);
}
