using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace CommerceMM.Coordinator.Client;

/// <summary>
/// The resilience pipeline of every grain call: a deadline per attempt inside exponential retries with jitter. Only
/// transport failures are retried (no gateway, a silo that died before it was declared dead, a call that timed out);
/// a refusal is a value, final, because repeating it cannot change it.
/// </summary>
internal static class GrainRetry
{
    public static ResiliencePipeline Create(ControlPlaneClientOptions options, TimeSpan deadline)
    {
        var builder = new ResiliencePipelineBuilder { TimeProvider = options.TimeProvider };
        if (options.MaxRetries > 0)
        {
            builder.AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = options.MaxRetries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.BaseDelay,
                MaxDelay = options.MaxDelay,
                ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is { } e && IsTransient(e)),
            });
        }

        builder.AddTimeout(deadline);
        return builder.Build();
    }

    /// <summary>Orleans' own failures (connection, silo unavailable, rejected messages) and timeouts; not our refusals, not bugs.</summary>
    internal static bool IsTransient(Exception e) =>
        e is TimeoutRejectedException or TimeoutException or OrleansException or System.Net.Sockets.SocketException or IOException;
}
