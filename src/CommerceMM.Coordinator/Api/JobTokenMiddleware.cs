using CommerceMM.Coordinator.Contracts;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace CommerceMM.Coordinator.Api;

/// <summary>Marks endpoints whose route has a <c>{job}</c> and that need that job's bearer token.</summary>
internal sealed class RequiresJobTokenMetadata
{
    public const string RouteKey = "job";
}

/// <summary>
/// Checks the job's bearer token before anything else runs (body binding included), so an unauthenticated caller
/// learns nothing from validation errors. A middleware rather than an endpoint filter for exactly that ordering.
/// </summary>
internal sealed class JobTokenMiddleware(RequestDelegate next, JobTokens tokens)
{
    private const string Scheme = "Bearer ";

    public async Task InvokeAsync(HttpContext context)
    {
        if (context.GetEndpoint()?.Metadata.GetMetadata<RequiresJobTokenMetadata>() is null)
        {
            await next(context).ConfigureAwait(false);
            return;
        }

        string job = context.GetRouteValue(RequiresJobTokenMetadata.RouteKey) as string ?? "";
        if (!tokens.Knows(job))
        {
            await Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown job", type: ProblemTypes.UnknownJob,
                detail: $"this coordinator runs no job named '{job}'").ExecuteAsync(context).ConfigureAwait(false);
            return;
        }

        string header = context.Request.Headers.Authorization.ToString();
        string? presented = header.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase) ? header[Scheme.Length..].Trim() : null;
        if (!tokens.Verify(job, presented))
        {
            context.Response.Headers.WWWAuthenticate = "Bearer realm=\"cmm\"";
            await Results.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized", type: ProblemTypes.Unauthorized,
                detail: presented is null
                    ? $"job '{job}' needs 'Authorization: Bearer <token>'"
                    : $"the bearer token is not the token of job '{job}'").ExecuteAsync(context).ConfigureAwait(false);
            return;
        }

        await next(context).ConfigureAwait(false);
    }
}
