using CommerceMM.Coordinator.Contracts;
using CommerceMM.Coordinator.Grains;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace CommerceMM.Coordinator.Api;

/// <summary>One mapping from entity refusals to HTTP, so every endpoint answers a stale generation the same way.</summary>
internal static class ApiResults
{
    public static Results<Ok<TOut>, ValidationProblem, ProblemHttpResult> Refusal<T, TOut>(GrainResult<T> result) =>
        result.Status == GrainStatus.Invalid ? Invalid(result) : Problem(result);

    /// <summary>204 when <paramref name="result"/> is Ok, else its refusal: for endpoints whose success carries no body.</summary>
    public static Results<NoContent, ValidationProblem, ProblemHttpResult> NoContentOrRefusal<T>(GrainResult<T> result)
    {
        if (result.IsOk)
        {
            return TypedResults.NoContent();
        }

        return result.Status == GrainStatus.Invalid ? Invalid(result) : Problem(result);
    }

    private static ValidationProblem Invalid<T>(GrainResult<T> result) => TypedResults.ValidationProblem(
        new Dictionary<string, string[]> { [result.Field ?? "body"] = [result.Message ?? "invalid"] }, title: "The request is invalid");

    private static ProblemHttpResult Problem<T>(GrainResult<T> result) => result.Status switch
    {
        GrainStatus.Stale => Problem("Stale generation", ProblemTypes.StaleGeneration, result),
        GrainStatus.NotMember => Problem("Not a member of this generation", ProblemTypes.NotMember, result),
        GrainStatus.Conflict => Problem("Conflict", ProblemTypes.Conflict, result),
        GrainStatus.JobEnded => Problem("Job ended", ProblemTypes.JobEnded, result),
        _ => throw new InvalidOperationException($"{result.Status} is not a refusal with a problem."),
    };

    private static ProblemHttpResult Problem<T>(string title, string type, GrainResult<T> result) =>
        TypedResults.Problem(
            statusCode: StatusCodes.Status409Conflict,
            title: title,
            type: type,
            detail: result.Message,
            extensions: result.CurrentGeneration is { } g ? new Dictionary<string, object?> { [ProblemTypes.CurrentGenerationExtension] = g } : null);
}
