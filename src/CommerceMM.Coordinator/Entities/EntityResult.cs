namespace CommerceMM.Coordinator.Entities;

public enum EntityStatus
{
    Ok,

    /// <summary>A field of the request is invalid; <see cref="EntityResult{T}.Field"/> names it.</summary>
    Invalid,

    /// <summary>The request carries another generation than the current one.</summary>
    Stale,

    /// <summary>The worker is not a member of the generation it names.</summary>
    NotMember,

    /// <summary>The request conflicts with the entity's state, or a persisted write lost an ETag race.</summary>
    Conflict,
}

/// <summary>
/// Outcome of an entity call. Refusals are values, not exceptions: a stale generation or a lost ETag race is an
/// expected event of the protocol, and the API maps each status to one HTTP answer.
/// </summary>
public sealed record EntityResult<T>
{
    private EntityResult(EntityStatus status, T? value, string? message, string? field, long? currentGeneration)
    {
        Status = status;
        Value = value;
        Message = message;
        Field = field;
        CurrentGeneration = currentGeneration;
    }

    public EntityStatus Status { get; }

    /// <summary>Set when <see cref="Status"/> is <see cref="EntityStatus.Ok"/>.</summary>
    public T? Value { get; }

    public string? Message { get; }

    /// <summary>For <see cref="EntityStatus.Invalid"/>: the request field at fault (camelCase, as on the wire).</summary>
    public string? Field { get; }

    /// <summary>For <see cref="EntityStatus.Stale"/> and <see cref="EntityStatus.NotMember"/>: the generation now current.</summary>
    public long? CurrentGeneration { get; }

    public bool IsOk => Status == EntityStatus.Ok;

    public static EntityResult<T> Ok(T value) => new(EntityStatus.Ok, value, null, null, null);

    public static EntityResult<T> Invalid(string field, string message) => new(EntityStatus.Invalid, default, message, field, null);

    public static EntityResult<T> Stale(long currentGeneration, string message) => new(EntityStatus.Stale, default, message, null, currentGeneration);

    public static EntityResult<T> NotMember(long currentGeneration, string message) => new(EntityStatus.NotMember, default, message, null, currentGeneration);

    public static EntityResult<T> Conflict(string message) => new(EntityStatus.Conflict, default, message, null, null);

    /// <summary>The same refusal for another value type (only for non-Ok results).</summary>
    public EntityResult<TOther> Cast<TOther>() => IsOk
        ? throw new InvalidOperationException("An Ok result carries a value and cannot be re-typed.")
        : new EntityResult<TOther>(Status, default, Message, Field, CurrentGeneration);

    public static implicit operator EntityResult<T>(T value) => Ok(value);
}
