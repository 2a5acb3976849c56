using CommerceMM.Coordinator.Grains;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace CommerceMM.Coordinator.Hosting;

/// <summary>
/// Sweeps membership on a timer so a dead rank is noticed even when no other request arrives (e.g. every worker hung).
/// Every request sweeps too; the timer only bounds how late an eviction can be. Each silo runs one: after a failover the
/// survivor's tick reactivates the membership grain even if no worker calls.
/// </summary>
internal sealed partial class LivenessMonitor(IGrainFactory grains, CoordinatorOptions options, ILogger<LivenessMonitor> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.Liveness.SweepInterval == Timeout.InfiniteTimeSpan)
        {
            return;
        }

        using var timer = new PeriodicTimer(options.Liveness.SweepInterval, options.TimeProvider);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                string job = options.Job.Name;
                try
                {
                    await grains.GetGrain<IMembershipGrain>(job).SweepAsync(stoppingToken).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // A store outage (or a silo failover) must not kill the monitor: the next tick (or request) tries again.
                    LogSweepFailed(logger, job, e);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {Job}: liveness sweep failed; retrying on the next tick")]
    private static partial void LogSweepFailed(ILogger logger, string job, Exception exception);
}
