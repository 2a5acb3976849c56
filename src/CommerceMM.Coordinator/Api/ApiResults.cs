using CommerceMM.Coordinator.Contracts;
using CommerceMM.Coordinator.Entities;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace CommerceMM.Coordinator.Api;

/// <summary>One mapping from entity refusals to HTTP, so every endpoint answers a stale generation the same way.</summary>
internal static class ApiResults
{
    public static Results<Ok<TOut>, ValidationProblem, ProblemHttpResult> Refusal<T, TOut>(EntityResult<T> result) =>
        result.Status == EntityStatus.Invalid ? Invalid(result) : Problem(result);

    /// <summary>204 when <paramref name="result"/> is Ok, else its refusal: for endpoints whose success carries no body.</summary>
    public static Results<NoContent, ValidationProblem, ProblemHttpResult> NoContentOrRefusal<T>(EntityResult<T> result)
    {
        if (result.IsOk)
        {
            return TypedResults.NoContent();
        }

        return result.Status == EntityStatus.Invalid ? Invalid(result) : Problem(result);
    }

    private static ValidationProblem Invalid<T>(EntityResult<T> result) => TypedResults.ValidationProblem(
        new Dictionary<string, string[]> { [result.Field ?? "body"] = [result.Message ?? "invalid"] }, title: "The request is invalid");

    private static ProblemHttpResult Problem<T>(EntityResult<T> result) => result.Status switch
    {
        EntityStatus.Stale => Problem("Stale generation", ProblemTypes.StaleGeneration, result),
        EntityStatus.NotMember => Problem("Not a member of this generation", ProblemTypes.NotMember, result),
        EntityStatus.Conflict => Problem("Conflict", ProblemTypes.Conflict, result),
        _ => throw new InvalidOperationException($"{result.Status} is not a refusal with a problem."),
    };

    private static ProblemHttpResult Problem<T>(string title, string type, EntityResult<T> result) =>
        TypedResults.Problem(
            statusCode: StatusCodes.Status409Conflict,
            title: title,
            type: type,
            detail: result.Message,
            extensions: result.CurrentGeneration is { } g ? new Dictionary<string, object?> { [ProblemTypes.CurrentGenerationExtension] = g } : null);
}
