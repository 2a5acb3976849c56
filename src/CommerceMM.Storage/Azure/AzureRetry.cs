using System.Net.Http;
using CommerceMM.Storage.Blobs;
using global::Azure;
using Polly;
using Polly.Retry;

namespace CommerceMM.Storage.Azure;

/// <summary>
/// The Polly pipeline around every Azure request: bounded exponential retries with jitter on transient failures only.
/// Azure.Core's own retry policy is switched off so there is exactly one retry loop to reason about.
/// </summary>
internal static class AzureRetry
{
    /// <summary>HTTP statuses worth retrying: timeouts, throttling and server-side failures.</summary>
    private static readonly int[] TransientStatuses = [408, 429, 500, 502, 503, 504];

    public static bool IsTransientStatus(int status) => Array.IndexOf(TransientStatuses, status) >= 0;

    public static ResiliencePipeline Build(AzureBlobStoreOptions options)
    {
        var builder = new ResiliencePipelineBuilder { TimeProvider = options.TimeProvider };
        if (options.MaxRetries > 0)
        {
            builder.AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = options.MaxRetries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.RetryDelay,
                MaxDelay = options.MaxRetryDelay,
                ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is { } e && IsTransient(e, args.Context.CancellationToken)),
            });
        }

        return builder.Build();
    }

    /// <summary>Network failures, transient statuses, and timeouts that are not the caller's own cancellation.</summary>
    internal static bool IsTransient(Exception e, CancellationToken callerToken) => e switch
    {
        BlobStoreException b => b.IsTransient,
        // Azure.Core's transport reports "no response at all" (refused, reset, DNS) as status 0.
        RequestFailedException r => r.Status == 0 || IsTransientStatus(r.Status),
        HttpRequestException or IOException => true,
        OperationCanceledException => !callerToken.IsCancellationRequested,
        _ => false,
    };
}
