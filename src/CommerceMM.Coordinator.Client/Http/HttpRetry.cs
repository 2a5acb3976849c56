using System.Net;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace CommerceMM.Coordinator.Client;

/// <summary>
/// The resilience pipeline of every HTTP call to the coordinator: per-attempt timeout inside exponential retries with jitter.
/// Only transient outcomes are retried; a 4xx answer (401, 409 stale, 400) is final, because repeating it cannot change it.
/// </summary>
internal static class HttpRetry
{
    public static ResiliencePipeline<HttpResponseMessage> Create(ControlPlaneClientOptions options)
    {
        var builder = new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = options.TimeProvider };
        if (options.MaxRetries > 0)
        {
            builder.AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                MaxRetryAttempts = options.MaxRetries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.BaseDelay,
                MaxDelay = options.MaxDelay,
                ShouldHandle = args => ValueTask.FromResult(IsTransient(args.Outcome)),
                OnRetry = args =>
                {
                    args.Outcome.Result?.Dispose(); // the retried response is never read
                    return ValueTask.CompletedTask;
                },
            });
        }

        builder.AddTimeout(options.AttemptTimeout);
        return builder.Build();
    }

    internal static bool IsTransient(Outcome<HttpResponseMessage> outcome) => outcome switch
    {
        { Exception: HttpRequestException or TimeoutRejectedException } => true,
        { Exception: TaskCanceledException e } => e.InnerException is TimeoutException, // HttpClient.Timeout, not the caller's cancellation
        { Result: { } response } => IsTransient(response.StatusCode),
        _ => false,
    };

    internal static bool IsTransient(HttpStatusCode status) =>
        (int)status >= 500 || status is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests;
}
